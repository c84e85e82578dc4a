/**
 * One tenant's configuration as a multi-tenant client holds it: a thin view that names the
 * tenant and reads the client's single copy. It reads that tenant's store and no other.
 */
import { flagDetailsOf, type FlagDetails, type FlagEvaluationContext, type FlagValueType } from './flag-read';
import { jsonOf, primitiveOf, type ConfigReader, type ConfigSchema } from './typed-read';
import type { ChangeListener, ClientItem } from './types';

/** What a view needs of its client. */
export interface TenantViewHost {
  /** A read of the tenant: on demand, it counts as a use (and follows the tenant again if it was dropped). */
  used(tenantId: string): void;
  item(tenantId: string, key: string): ClientItem | undefined;
  keys(tenantId: string, prefix?: string): string[];
  isLoaded(tenantId: string): boolean;
  ready(tenantId: string): Promise<void>;
  onChange(tenantId: string, listener: ChangeListener, prefix?: string): () => void;
  /** The tenant's registry attributes (`tenant.<name>` in flag rules); `{}` when the client holds none. */
  attributes(tenantId: string): Readonly<Record<string, string>>;
  /** Listens to changes of the tenant's registry attributes. */
  onAttributesChange(tenantId: string, listener: (attributes: Readonly<Record<string, string>>) => void): () => void;
}

export class TenantView implements ConfigReader {
  constructor(
    private readonly host: TenantViewHost,
    readonly tenantId: string,
  ) {}

  /** True once the tenant's first state is held; until then `get` answers the fallback. */
  get loaded(): boolean {
    return this.host.isLoaded(this.tenantId);
  }

  /** The value of `key` for this tenant, from memory; `fallback` when it is absent or not loaded yet. */
  get<T = unknown>(key: string): T | undefined;
  get<T>(key: string, fallback: T): T;
  get<T = unknown>(key: string, fallback?: T): T | undefined {
    this.host.used(this.tenantId);
    const item = this.host.item(this.tenantId, key);
    return item ? (item.value as T) : fallback;
  }

  /** A finite number, or `fallback` when absent or not loaded yet; ConfigValueTypeError for another type. */
  getNumber(key: string): number | undefined;
  getNumber(key: string, fallback: number): number;
  getNumber(key: string, fallback?: number): number | undefined {
    return primitiveOf(key, this.read(key), 'number', fallback);
  }

  /** A boolean, or `fallback` when absent or not loaded yet; ConfigValueTypeError for another type. */
  getBoolean(key: string): boolean | undefined;
  getBoolean(key: string, fallback: boolean): boolean;
  getBoolean(key: string, fallback?: boolean): boolean | undefined {
    return primitiveOf(key, this.read(key), 'boolean', fallback);
  }

  /** A string, or `fallback` when absent or not loaded yet; ConfigValueTypeError for another type. */
  getString(key: string): string | undefined;
  getString(key: string, fallback: string): string;
  getString(key: string, fallback?: string): string | undefined {
    return primitiveOf(key, this.read(key), 'string', fallback);
  }

  /** Any JSON value, checked by `schema` (type guard or `{ parse }`) when given; undefined when absent. */
  getJson<T = unknown>(key: string, schema?: ConfigSchema<T>): T | undefined {
    return jsonOf(key, this.read(key), schema);
  }

  /** The item with its version and provenance, from memory. */
  getItem<T = unknown>(key: string): ClientItem<T> | undefined {
    this.host.used(this.tenantId);
    return this.host.item(this.tenantId, key) as ClientItem<T> | undefined;
  }

  /** This tenant's keys held, sorted; only those starting with `prefix` when given. */
  keys(prefix?: string): string[] {
    this.host.used(this.tenantId);
    return this.host.keys(this.tenantId, prefix);
  }

  /**
   * Every applied change of this tenant (its first state is loaded silently). Returns the
   * unsubscribe function. On demand, a dropped tenant's listeners hear nothing until it is used again.
   */
  onChange<T = unknown>(listener: ChangeListener<T>, filter: { prefix?: string } = {}): () => void {
    return this.host.onChange(this.tenantId, listener as ChangeListener, filter.prefix);
  }

  /**
   * The tenant's registry attributes (`{"plan": "gold", ...}`), as the stream delivers them: what
   * flag rules on `tenant.<name>` read. Not configuration keys: never in `keys`, `get` or `onChange`.
   * `{}` for a tenant not registered, or not loaded yet.
   */
  get attributes(): Readonly<Record<string, string>> {
    this.host.used(this.tenantId);
    return this.host.attributes(this.tenantId);
  }

  /** Calls `listener` whenever the tenant's registry attributes change (flag answers on `tenant.*` may then change). Returns the unsubscribe function. */
  onAttributesChange(listener: (attributes: Readonly<Record<string, string>>) => void): () => void {
    return this.host.onAttributesChange(this.tenantId, listener);
  }

  /**
   * Flag `name` (the key `flags:<name>`) evaluated for this tenant, from memory, by the same
   * function as `GET /v1/flags/{name}/evaluate`: `fallback` when the flag is absent, unusable,
   * disabled without an off variant, not loaded yet, or of another type than `fallback`'s.
   */
  flag<T>(name: string, fallback: T, context?: FlagEvaluationContext): T {
    return this.flagDetails(name, fallback, context).value;
  }

  /** As {@link flag}, with the variant, the OpenFeature reason and, on error, its code and message; `expectedType` overrides the fallback's. */
  flagDetails<T>(name: string, fallback: T, context?: FlagEvaluationContext, expectedType?: FlagValueType): FlagDetails<T> {
    this.host.used(this.tenantId);
    const flagName = name.startsWith('flags:') ? name.slice('flags:'.length) : name;
    if (!this.host.isLoaded(this.tenantId)) {
      return {
        flagKey: flagName,
        value: fallback,
        reason: 'ERROR',
        errorCode: 'PROVIDER_NOT_READY',
        errorMessage: `tenant '${this.tenantId}' is not loaded yet`,
      };
    }
    const item = this.host.item(this.tenantId, `flags:${flagName}`);
    return flagDetailsOf(flagName, item?.value, fallback, {
      tenantId: this.tenantId,
      tenantAttributes: this.host.attributes(this.tenantId),
      context,
      expectedType,
    });
  }

  private read(key: string): ClientItem | undefined {
    this.host.used(this.tenantId);
    return this.host.item(this.tenantId, key);
  }

  /** Resolves (to this view) once the tenant's first state is held. Rejects when the service refuses the tenant or the client closes. */
  async ready(): Promise<this> {
    await this.host.ready(this.tenantId);
    return this;
  }
}
