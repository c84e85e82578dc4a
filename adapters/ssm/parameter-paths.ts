import { parseKey, type ConfigKey, type KeyPrefix } from '../../core/key';
import type { TenantId } from '../../core/tenant';

const SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Where keys live in Parameter Store: `/<root>/<stage>/tenants/<tenantId>/<tag>/<name>`.
 * The tag is a path level because two tags may share this backend (`paramconfig`,
 * `secretconfig`) with the same names. Levels: 5 fixed + at most 10 name segments
 * (core/key.ts) = 15, Parameter Store's limit.
 */
export class ParameterPaths {
  private readonly base: string;
  /** `/<root>/<stage>/tenants/`, trailing slash included: the prefix of every parameter of this stage. */
  readonly tenantsPath: string;

  constructor(root: string, stage: string) {
    const r = root.replace(/^\/+|\/+$/g, '');
    for (const [what, value] of [
      ['root', r],
      ['stage', stage],
    ] as const) {
      if (!SEGMENT.test(value)) throw new Error(`SSM parameter ${what} '${value}' must be one path segment of [A-Za-z0-9_.-]`);
    }
    if (/^(aws|ssm)/i.test(r)) throw new Error(`SSM parameter root '${r}' must not start with 'aws' or 'ssm' (reserved by Parameter Store)`);
    this.base = `/${r}/${stage}/tenants`;
    this.tenantsPath = `${this.base}/`;
  }

  /** The tenant's subtree, e.g. for IAM policies: `/<root>/<stage>/tenants/<tenantId>`. */
  tenantPath(tenant: TenantId): string {
    return `${this.base}/${tenant}`;
  }

  parameterName(tenant: TenantId, key: ConfigKey): string {
    return `${this.tenantPath(tenant)}/${key.tag}/${key.name}`;
  }

  /**
   * What to list for a key prefix: the deepest complete path it names (for
   * GetParametersByPath) and the name prefix the results must start with.
   * `paramconfig:db/po` → path `…/paramconfig/db`, names starting `…/paramconfig/db/po`.
   */
  listScope(tenant: TenantId, prefix: KeyPrefix): { path: string; namePrefix: string } {
    const tagPath = `${this.tenantPath(tenant)}/${prefix.tag}`;
    const lastSlash = prefix.namePrefix.lastIndexOf('/');
    const dir = lastSlash < 0 ? '' : prefix.namePrefix.slice(0, lastSlash);
    return { path: dir ? `${tagPath}/${dir}` : tagPath, namePrefix: `${tagPath}/${prefix.namePrefix}` };
  }

  /**
   * The layout read backwards, for change events: the tenant id (unchecked: the caller
   * parses it) and key a parameter name stands for, or undefined outside this stage's
   * hierarchy or when the rest is not a valid key.
   */
  locate(parameterName: string): { tenant: string; key: ConfigKey } | undefined {
    if (!parameterName.startsWith(this.tenantsPath)) return undefined;
    const [tenant, tag, ...name] = parameterName.slice(this.tenantsPath.length).split('/');
    if (!tenant || !tag || name.length === 0) return undefined;
    try {
      return { tenant, key: parseKey(`${tag}:${name.join('/')}`) };
    } catch {
      return undefined;
    }
  }

  /** The key a parameter of this tenant and tag stands for; undefined for a name that is not a valid key (written by another tool). */
  keyOf(tenant: TenantId, tag: string, parameterName: string): ConfigKey | undefined {
    const tagPath = `${this.tenantPath(tenant)}/${tag}/`;
    if (!parameterName.startsWith(tagPath)) return undefined;
    try {
      return parseKey(`${tag}:${parameterName.slice(tagPath.length)}`);
    } catch {
      return undefined;
    }
  }
}
