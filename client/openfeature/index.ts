/** `@tenant-config/client/openfeature`: the OpenFeature server provider (peer dependency `@openfeature/server-sdk`). */
export { TenantConfigProvider, type FlagView, type FlagViews, type TenantConfigProviderOptions } from './tenant-config-provider';
