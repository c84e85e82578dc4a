/**
 * The construct library: the whole service as one construct ({@link TenantConfigService}) and
 * the constructs it is made of, for apps that embed it or assemble their own stacks
 * (docs/embedding.md).
 */
export { TenantConfigService, type TenantConfigServiceProps } from './tenant-config-service';
export { TenantConfigData, type TenantConfigDataProps } from './data/tenant-config-data';
export { TenantConfigRuntime, type TenantConfigRuntimeProps } from './service/tenant-config-runtime';
export {
  ConfigNetwork,
  ConfigVpcEndpoints,
  DEFAULT_INTERFACE_ENDPOINTS,
  serviceSubnetsOf,
  type ConfigNetworkProps,
  type ConfigVpcEndpointsProps,
  type ServiceSubnets,
} from './network/config-network';
export { TenantTable } from './data/tenant-table';
export { ParameterStoreRoot } from './data/parameter-store-root';
export { ConfigCache, type ConfigCacheProps } from './data/config-cache';
export {
  TenantUserPool,
  ADMIN_GROUP,
  OPERATOR_GROUP,
  TENANT_ATTRIBUTE,
  TENANT_CLAIM,
  type TenantUserPoolProps,
  type ServiceClient,
} from './data/tenant-user-pool';
export { ConfigApi } from './service/config-api';
export { AdminConsole, type AdminConsoleProps, type AdminConsoleSettings } from './console/admin-console';
export { ChangeEvents } from './service/change-events';
export { FanoutService, type FanoutServiceProps } from './service/fanout-service';
export { Monitoring } from './service/monitoring';
export { RolloutDriver, type RolloutDriverProps } from './service/rollout-driver';
export { StoreAccess } from './service/store-access';
export { ServiceFunction, type ServiceFunctionProps } from './common/service-function';
export { readStageConfig, StageConfigError, type StageConfig } from './config/stage-config';
export { createTenantConfigApp, stackName, type TenantConfigStacks, type TenantConfigAppOptions } from './tenant-config-app';
