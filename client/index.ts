/** The client SDK a consuming microservice embeds (DESIGN §4). See README.md: the SDK in ten lines. */
export { ConfigClient } from './config-client';
export type { ConfigClientOptions } from './options';
export { DEFAULTS as CONFIG_CLIENT_DEFAULTS } from './options';
export { fullJitterDelay, type BackoffPolicy } from './backoff';
export { ConfigClientError, ConfigClientOptionsError, ConfigClientClosedError, ConfigClientAuthError, HttpFallbackError } from './errors';
export type {
  ChangeListener,
  ClientItem,
  ConfigChange,
  ConfigClientLogger,
  ConfigClientStatus,
  StateSource,
  StatusListener,
  StatusReport,
} from './types';
