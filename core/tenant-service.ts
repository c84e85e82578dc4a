/**
 * The tenant registry's use cases (operators only): register a tenant or change its
 * attributes, read it, list tenants. A change of attributes is told to the cache like a write
 * of the tenant's {@link ATTRIBUTES_KEY}, so it reaches the change log in the tenant's shard and
 * every watcher of the tenant gets the effective values of its new segments.
 */
import { authorizeOperation } from './access-policy';
import type { ItemReader } from './config-service';
import { InvalidRequestError, NotFoundError } from './errors';
import { attributesItem } from './layer-reads';
import type { Principal } from './principal';
import type { TenantSchema } from './tenant-attributes';
import type { TenantId } from './tenant';
import { ATTRIBUTES_KEY, type TenantRecord, type TenantRegistry } from './tenant-registry';
import type { PageTokenCodec } from './page-token';

export const DEFAULT_TENANT_PAGE_LIMIT = 50;
export const MAX_TENANT_PAGE_LIMIT = 100;

export class TenantService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly schema: TenantSchema,
    private readonly pageTokens: PageTokenCodec,
    private readonly reader?: ItemReader,
  ) {}

  async get(caller: Principal, tenant: TenantId): Promise<TenantRecord> {
    authorizeOperation(caller, 'reading the tenant registry');
    const record = await this.registry.get(tenant);
    if (!record) throw new NotFoundError(`tenant '${tenant}' is not registered`);
    return record;
  }

  /** Registers the tenant or replaces its attributes; registering an offboarded tenant again clears its offboarding. */
  async put(caller: Principal, tenant: TenantId, body: unknown, expectedVersion?: number | 'absent'): Promise<{ record: TenantRecord; created: boolean }> {
    authorizeOperation(caller, 'changing the tenant registry');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequestError('body must be a JSON object: {"attributes": {...}}');
    const extra = Object.keys(body).filter((k) => k !== 'attributes');
    if (extra.length > 0) throw new InvalidRequestError(`unknown field '${extra[0].slice(0, 64)}': the body is {"attributes": {...}}`);
    const attributes = this.schema.parseAttributes((body as { attributes?: unknown }).attributes);
    const result = await this.registry.put(tenant, { attributes, updatedBy: caller.subject, expectedVersion, offboarding: null });
    await this.reader?.onWrite?.({ caller, tenant }, ATTRIBUTES_KEY, { item: attributesItem(result.record) });
    return result;
  }

  async list(caller: Principal, query: { limit?: number; nextToken?: string }): Promise<{ items: TenantRecord[]; nextToken?: string }> {
    authorizeOperation(caller, 'listing the tenant registry');
    const limit = query.limit ?? DEFAULT_TENANT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TENANT_PAGE_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_TENANT_PAGE_LIMIT}`);
    }
    const cursor = query.nextToken ? this.pageTokens.decode(query.nextToken, { tenant: '', prefix: 'tenants' }).cursor : undefined;
    const page = await this.registry.list({ limit, cursor });
    return {
      items: [...page.items],
      nextToken: page.cursor ? this.pageTokens.encode({ tenant: '', prefix: 'tenants', tagIndex: 0, cursor: page.cursor }) : undefined,
    };
  }
}
