/** The client SDK a consuming microservice embeds. See README.md: the SDK in ten lines. */
export { ConfigClient, type StartOptions } from './config-client';
export type { AnyConfigClientOptions, ConfigClientOptions, OfflineConfigClientOptions, TenantsMode } from './options';
export { TestConfigClient, createTestClient, type TestClientOptions } from './test-client';
export { describeValue, type ConfigReader, type ConfigSchema } from './typed-read';
export { TenantView } from './tenant-view';
export type { FlagDetails, FlagErrorCode, FlagEvaluationContext, FlagReason, FlagValueType } from './flag-read';
export type { UserTokenSettings } from './user-tokens';
export { DEFAULTS as CONFIG_CLIENT_DEFAULTS } from './options';
export { fullJitterDelay, recoveryBoundMs, streamRetryDelay, type BackoffPolicy, type RecoverySettings, type StreamRetryPolicy } from './backoff';
export {
  ConfigClientError,
  ConfigClientOptionsError,
  ConfigClientClosedError,
  ConfigClientAuthError,
  ConfigClientPermissionError,
  ConfigClientStartTimeoutError,
  ConfigValueTypeError,
  HttpFallbackError,
  InvalidTenantIdError,
  UserTokenError,
  type ExpectedValue,
  type StartAttempts,
  type UserTokenRefusal,
} from './errors';
export type {
  ChangeListener,
  ClientItem,
  ConfigChange,
  ConfigClientLogger,
  ConfigClientMetrics,
  ConfigClientStatus,
  LagEvent,
  ReconnectEvent,
  StateSource,
  StatusListener,
  StatusReport,
} from './types';
