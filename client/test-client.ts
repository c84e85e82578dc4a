/**
 * An in-memory ConfigClient for a consuming service's unit tests: the real client, offline
 * (it never connects), with `set` / `delete` that apply a change as the stream would — version
 * above every one held, change listeners and `metrics.onLag` hear it — and `setStatus` for
 * health-check tests. Being a ConfigClient, it has the same `get`, typed getters, `onChange`,
 * `onStatus`, `forTenant` views and `close`, so the code under test cannot tell.
 *
 *     const config = createTestClient({ 'tenantconfig:plan': 'gold' });
 *     const tenants = createTestClient({}, { tenants: { acme: { 'tenantconfig:plan': 'gold' } } });
 */
import { ConfigClient } from './config-client';
import type { ConfigClientLogger, ConfigClientMetrics, ConfigClientStatus } from './types';

export interface TestClientOptions {
  /** Many tenants, `{ tenantId: { key: value } }`: read through `forTenant(id)`, as a client with `tenants: 'all'`. */
  readonly tenants?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly metrics?: ConfigClientMetrics;
  readonly logger?: ConfigClientLogger;
}

export class TestConfigClient extends ConfigClient {
  private readonly multiTenant: boolean;

  constructor(values: Readonly<Record<string, unknown>> = {}, options: TestClientOptions = {}) {
    const common = { offline: true as const, metrics: options.metrics, logger: options.logger };
    super(options.tenants ? { ...common, tenants: 'all', bootstrapTenants: options.tenants } : { ...common, bootstrap: values });
    this.multiTenant = options.tenants !== undefined;
    if (this.multiTenant && Object.keys(values).length > 0) {
      throw new TypeError('createTestClient: with tenants, give the values per tenant ({ tenants: { id: { key: value } } })');
    }
  }

  /** Sets `key` (of `tenantId`, for a multi-tenant double) as a change from the service would. */
  set(key: string, value: unknown, tenantId?: string): this {
    if (value === undefined) throw new TypeError('TestConfigClient.set: a value is JSON; use delete(key) to remove a key');
    this.applyLocal(key, value, false, this.tenantOf(tenantId));
    return this;
  }

  /** Deletes `key`; true when it was held. */
  delete(key: string, tenantId?: string): boolean {
    return this.applyLocal(key, undefined, true, this.tenantOf(tenantId)) !== undefined;
  }

  /** Sets a tenant's registry attributes (`tenant.<name>` in flag rules), as the tenant registry would hold them. */
  setTenantAttributes(tenantId: string, attributes: Readonly<Record<string, string>>): this {
    this.applyTenantAttributes(tenantId, attributes);
    return this;
  }

  /** Makes the client report `status` (onStatus listeners and metrics hear it); `reason` becomes `statusReport.lastError`. */
  setStatus(status: ConfigClientStatus, reason?: string): this {
    this.forceStatus(status, reason);
    return this;
  }

  private tenantOf(tenantId: string | undefined): string | undefined {
    if (this.multiTenant && tenantId === undefined) throw new TypeError('TestConfigClient: name the tenant, set(key, value, tenantId)');
    return tenantId;
  }
}

/** A {@link TestConfigClient} holding `values` (or, with `options.tenants`, each tenant's). */
export function createTestClient(values: Readonly<Record<string, unknown>> = {}, options: TestClientOptions = {}): TestConfigClient {
  return new TestConfigClient(values, options);
}
