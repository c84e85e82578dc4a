/** The client SDK a consuming microservice embeds. See README.md: the SDK in ten lines. */
export { ConfigClient } from './config-client';
export type { ConfigClientOptions, TenantsMode } from './options';
export { TenantView } from './tenant-view';
export type { UserTokenSettings } from './user-tokens';
export { DEFAULTS as CONFIG_CLIENT_DEFAULTS } from './options';
export { fullJitterDelay, recoveryBoundMs, streamRetryDelay, type BackoffPolicy, type RecoverySettings, type StreamRetryPolicy } from './backoff';
export {
  ConfigClientError,
  ConfigClientOptionsError,
  ConfigClientClosedError,
  ConfigClientAuthError,
  ConfigClientPermissionError,
  HttpFallbackError,
  InvalidTenantIdError,
  UserTokenError,
  type UserTokenRefusal,
} from './errors';
export type { ChangeListener, ClientItem, ConfigChange, ConfigClientLogger, ConfigClientStatus, StateSource, StatusListener, StatusReport } from './types';
