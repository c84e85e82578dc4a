import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  type Parameter,
  type ParameterMetadata,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { Page, PageRequest, ConfigBackend } from '../../core/backend-port';
import { ConflictError, InvalidPageTokenError, NotFoundError, PreconditionFailedError } from '../../core/errors';
import type { ConfigItem, DeleteCommand, HistoryEntry, JsonValue, PutCommand, PutResult } from '../../core/item';
import { parseKey, parseKeyPrefix, type ConfigKey, type KeyPrefix } from '../../core/key';
import type { TagRegistry } from '../../core/tag-registry';
import { TENANT_ID_PATTERN, type TenantId } from '../../core/tenant';
import { ParameterPaths } from './parameter-paths';
import { isSdkError, translateSdkError } from '../sdk-errors';
import type { IndexedKey, ParameterKeyIndex } from './key-index';
import { ConcurrentWriteDetectedError } from './ssm-errors';
import type { HeldLease, WriteLease } from './write-lease';
import { commentOf, writerNote, writerOf } from './writer-note';

/*
 * Concurrency: what the write lease guarantees, and what a writer who bypasses the API can break.
 *
 * Parameter Store has no conditional write, and its version is its own (+1 on every
 * PutParameter, restarting at 1 after a delete). Every API write of a key runs under that
 * key's lease (write-lease.ts): read the current version, check If-Match / If-None-Match,
 * PutParameter, then check that the version Parameter Store returns is the one after the
 * version checked. Between API writers this makes compare-and-set exact: of N writers with
 * the same If-Match exactly one succeeds, and unconditional writers never interleave.
 *
 * A writer who bypasses the API (CLI, console, another service with ssm:PutParameter) takes
 * no lease. It CAN:
 * - overwrite or delete any key at any time (last writer wins); API readers see its value
 *   (read leniently: text that is not JSON comes back as a JSON string) and its version,
 *   and API If-Match writers then fail with 412, as they should;
 * - write between our version check and our PutParameter (one round trip). We detect that
 *   afterwards, because the returned version is not current+1, and report it as
 *   ConcurrentWriteDetectedError (409), never as success: our value is in place, the
 *   bypasser's sits one version below it in the history, and the caller is told to re-read.
 *   (Rolling back would be another unconditional write, racing the same way.)
 * - delete a key between our check and our delete, or write it there: a conditional API
 *   delete then removes a version it did not check, undetectably (the parameter and its
 *   history are gone);
 * - make the recorded writer unknown: `updatedBy` (and the write's `comment`) come from our
 *   note in the Description, which is tied to a version; for its versions we show
 *   LastModifiedUser and no comment instead (so does an unconditional API write that it
 *   pushed one version up: that write still succeeds, at the version Parameter Store gave it);
 * - delete and re-create a key, restarting its version at 1, exactly as an API delete does.
 * It CANNOT make an API write claim a compare-and-set that did not hold, make the version
 * of a live parameter go backwards (Parameter Store numbers them), or make one tenant see
 * another's keys (the tenant comes from the path, which API callers never choose).
 * A lease that expires while its holder stalls (longer than leaseMs) degrades to the same
 * detection: the late writer gets ConcurrentWriteDetectedError, not success.
 */

export interface SsmConfigBackendOptions {
  /** Created once per process and shared. */
  readonly client: SSMClient;
  readonly lease: WriteLease;
  /** Tags marked `secret` are stored as SecureString. */
  readonly registry: TagRegistry;
  /** First path level, e.g. 'tenant-config'. */
  readonly root: string;
  /** Second path level, e.g. 'dev'. */
  readonly stage: string;
  /** KMS key for SecureString parameters. @default Parameter Store's default key, alias/aws/ssm */
  readonly kmsKeyId?: string;
  /**
   * The keys in key order, so a listing page costs the same whatever the tenant holds. Without
   * it every page walks the tenant's whole tag subtree (fine for a reader that never lists).
   */
  readonly keyIndex?: ParameterKeyIndex;
}

/** Below this much lease time left we renew before writing: the write might outlive the lease. */
const MIN_LEASE_LEFT_MS = 1500;
const BY_PATH_PAGE = 10;
/** GetParameters takes at most 10 names. */
const GET_BATCH = 10;
/** An index row this old without a parameter is no write in progress (those finish within a lease). */
const PRUNE_AFTER_MS = 60_000;
const HISTORY_PAGE = 50;
/** DescribeParameters takes at most 50 values per filter and 50 results per page. */
const DESCRIBE_BATCH = 50;
/** Parameter Store keeps 100 versions: two history pages of 50, and one more call to see the end. */
const MAX_HISTORY_PAGES = 3;
const STANDARD_TIER_MAX_CHARS = 4096;

/** Parameter Store values are JSON text; text another tool wrote that is not JSON reads as a JSON string. */
export function decodeParameterValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/**
 * The list cursor: the last key returned (keyset paging, so writes between pages never repeat
 * or skip a key that stays). Parameter Store lists in its own order (creation order on moto and
 * here; undocumented on AWS), not by name, so its NextToken cannot continue a listing ordered by
 * key: the order comes from the key index (key-index.ts), one page of keys per page. Without
 * an index, or before a tenant's tag has been indexed, a page walks the scope and sorts it.
 */
function encodeCursor(afterKey: string): string {
  return Buffer.from(JSON.stringify({ after: afterKey }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, prefix: KeyPrefix): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const after = (parsed as { after?: unknown } | null)?.after;
    // A cursor cannot jump outside the prefix it was made for (the tenant never comes from it).
    if (typeof after === 'string' && after.length > 0 && after.startsWith(prefix.raw)) return after;
  } catch {
    // fall through
  }
  throw new InvalidPageTokenError('the Parameter Store list cursor is malformed');
}

const byKey = (a: { key: ConfigKey }, b: { key: ConfigKey }) => (a.key.raw < b.key.raw ? -1 : a.key.raw > b.key.raw ? 1 : 0);

/**
 * ConfigBackend on SSM Parameter Store: one parameter per key under the tenant's path,
 * the value as JSON text, the version Parameter Store's own. A delete removes the
 * parameter and its history, so a re-created key starts again at version 1; Parameter
 * Store cannot do otherwise (the DynamoDB backend keeps counting).
 */
export class SsmConfigBackend implements ConfigBackend {
  private readonly paths: ParameterPaths;

  constructor(private readonly opts: SsmConfigBackendOptions) {
    this.paths = new ParameterPaths(opts.root, opts.stage);
  }

  async get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined> {
    const name = this.paths.parameterName(tenant, key);
    for (let attempt = 0; ; attempt++) {
      // Value and writer note come from two calls; a write between them shows as a version mismatch.
      const [parameter, metadata] = await Promise.all([this.fetchParameter(name, true), this.describe([name])]);
      if (!parameter) return undefined;
      const meta = metadata.get(name);
      if (meta?.Version === parameter.Version || attempt >= 1) {
        return this.toItem(key, parameter, meta?.Version === parameter.Version ? meta : undefined);
      }
    }
  }

  async list(tenant: TenantId, prefix: KeyPrefix, page: PageRequest): Promise<Page<ConfigItem>> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, prefix);
    const index = this.opts.keyIndex;
    if (!index) return this.listByWalk(tenant, prefix, page.limit, after);
    const items: ConfigItem[] = [];
    let from = after;
    for (;;) {
      const want = page.limit - items.length;
      // One key more than needed tells whether a cursor is due.
      const found = await index.keys(tenant, prefix, from, want + 1);
      if (!found) return this.listByWalk(tenant, prefix, page.limit, after, index);
      const batch = found.keys.slice(0, want);
      const read = await this.readIndexed(tenant, batch);
      for (const entry of batch) {
        const item = read.get(entry.key);
        if (item) items.push(item);
        else if (Date.now() - entry.indexedAt > PRUNE_AFTER_MS) {
          // A key whose parameter is gone (deleted outside the API, or a write that failed): forget it.
          await index.prune(tenant, entry).catch(() => undefined);
        }
      }
      const more = found.keys.length > want || found.more;
      if (!more || batch.length === 0) return { items };
      from = batch[batch.length - 1].key;
      if (items.length === page.limit) return { items, cursor: encodeCursor(from) };
    }
  }

  /**
   * A page by walking the scope with GetParametersByPath and sorting: one walk of every
   * parameter under it per page. Given an index, the walk covers the whole tag and records what
   * it found, so the tag's next pages come from the index.
   */
  private async listByWalk(tenant: TenantId, prefix: KeyPrefix, limit: number, after: string | undefined, fill?: ParameterKeyIndex): Promise<Page<ConfigItem>> {
    const walked = await this.walk(tenant, fill ? parseKeyPrefix(`${prefix.tag}:`) : prefix);
    if (fill) {
      // Best effort: a reader without write access to the table (the fanout) still gets its
      // page, and the next listing by the config-api records the keys.
      await fill
        .fill(
          tenant,
          prefix.tag,
          walked.map((c) => c.key.raw),
        )
        .catch(() => undefined);
    }
    const candidates = walked.filter((c) => c.key.raw.startsWith(prefix.raw) && (after === undefined || c.key.raw > after)).sort(byKey);
    const chosen = candidates.slice(0, limit);
    const items = await this.withWriters(tenant, chosen);
    return candidates.length > limit && chosen.length > 0 ? { items, cursor: encodeCursor(chosen[chosen.length - 1].key.raw) } : { items };
  }

  /** Every parameter under the prefix whose name is a valid key of its tag. */
  private async walk(tenant: TenantId, prefix: KeyPrefix): Promise<Array<{ key: ConfigKey; parameter: Parameter }>> {
    const scope = this.paths.listScope(tenant, prefix);
    const found: Array<{ key: ConfigKey; parameter: Parameter }> = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call('listing parameters', () =>
        this.opts.client.send(
          new GetParametersByPathCommand({ Path: scope.path, Recursive: true, WithDecryption: true, MaxResults: BY_PATH_PAGE, NextToken: nextToken }),
        ),
      );
      for (const parameter of out.Parameters ?? []) {
        if (!parameter.Name?.startsWith(scope.namePrefix)) continue;
        const key = this.paths.keyOf(tenant, prefix.tag, parameter.Name);
        if (key) found.push({ key, parameter });
      }
      nextToken = out.NextToken || undefined;
    } while (nextToken);
    return found;
  }

  /** The items of indexed keys that still have a parameter, by key: GetParameters 10 names at a time, all at once. */
  private async readIndexed(tenant: TenantId, entries: readonly IndexedKey[]): Promise<Map<string, ConfigItem>> {
    const wanted = new Map<string, ConfigKey>();
    for (const entry of entries) {
      let key: ConfigKey;
      try {
        key = parseKey(entry.key);
      } catch {
        continue; // not a key (a row written by hand): nothing to read
      }
      wanted.set(this.paths.parameterName(tenant, key), key);
    }
    const names = [...wanted.keys()];
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += GET_BATCH) batches.push(names.slice(i, i + GET_BATCH));
    const outs = await Promise.all(
      batches.map((batch) => this.call('reading parameters', () => this.opts.client.send(new GetParametersCommand({ Names: batch, WithDecryption: true })))),
    );
    const found = outs.flatMap((out) => out.Parameters ?? []).filter((p) => p.Name && wanted.has(p.Name));
    const items = await this.withWriters(
      tenant,
      found.map((parameter) => ({ key: wanted.get(parameter.Name!)!, parameter })),
    );
    return new Map(items.map((item) => [item.key, item]));
  }

  /**
   * Items with their writer and comment (the note in each parameter's Description, which a
   * listing reads anyway, DescribeParameters 50 names a call), in the order given.
   */
  private async withWriters(tenant: TenantId, chosen: ReadonlyArray<{ key: ConfigKey; parameter: Parameter }>): Promise<ConfigItem[]> {
    const metadata = await this.describe(chosen.map((c) => c.parameter.Name!));
    const items: ConfigItem[] = [];
    for (const { key, parameter } of chosen) {
      const meta = metadata.get(parameter.Name!);
      if (meta?.Version === parameter.Version) {
        items.push(this.toItem(key, parameter, meta));
      } else {
        // Written (or deleted) between the two calls: read it again on its own.
        const fresh = await this.get(tenant, key);
        if (fresh) items.push(fresh);
      }
    }
    return items;
  }

  async put(tenant: TenantId, command: PutCommand): Promise<PutResult> {
    const { key, expectedVersion } = command;
    const name = this.paths.parameterName(tenant, key);
    const secret = this.opts.registry.resolve(key).secret;
    const text = JSON.stringify(command.value);

    return this.opts.lease.run(tenant, key, async (held) => {
      const current = await this.currentVersion(name);
      if (expectedVersion === 'absent' && current !== undefined) {
        throw new PreconditionFailedError(`'${key.raw}' already exists (version ${current})`, current);
      }
      if (typeof expectedVersion === 'number' && current !== expectedVersion) {
        throw new PreconditionFailedError(
          current === undefined ? `'${key.raw}' does not exist` : `'${key.raw}' is at version ${current}, not ${expectedVersion}`,
          current,
        );
      }
      await this.ensureLeaseTime(held, key);
      const intended = (current ?? 0) + 1;
      const note = writerNote(command.updatedBy, intended, command.comment);
      // Before the parameter exists, so a listing never misses a key that does.
      await this.opts.keyIndex?.add(tenant, key);

      let written: number;
      try {
        const out = await this.opts.client.send(
          new PutParameterCommand({
            Name: name,
            Value: text,
            Type: secret ? 'SecureString' : 'String',
            ...(secret && this.opts.kmsKeyId ? { KeyId: this.opts.kmsKeyId } : {}),
            ...(text.length > STANDARD_TIER_MAX_CHARS ? { Tier: 'Advanced' as const } : {}),
            Description: note,
            // If-None-Match: * must not overwrite: should a bypassing writer create the key first, Parameter Store refuses.
            Overwrite: current !== undefined || expectedVersion === undefined,
          }),
        );
        written = out.Version!;
      } catch (e) {
        if (isSdkError(e, 'ParameterAlreadyExists')) {
          throw new PreconditionFailedError(`'${key.raw}' was created by another writer at the same time`, await this.currentVersion(name));
        }
        throw translateSdkError(e, 'Parameter Store', `writing '${key.raw}'`);
      }
      if (typeof expectedVersion === 'number' && written !== intended) {
        throw new ConcurrentWriteDetectedError(key.raw, expectedVersion, written);
      }

      // PutParameter returns no timestamp; read this version's, so the result equals a later get().
      const stored = await this.fetchParameter(`${name}:${written}`, false).catch(() => undefined);
      // The comment as a later get() reads it: none if a bypassing writer pushed our version up (the note is then stale).
      const comment = commentOf(written, note);
      return {
        created: written === 1,
        item: {
          key: key.raw,
          value: JSON.parse(text) as JsonValue,
          version: written,
          updatedAt: (stored?.LastModifiedDate ?? new Date()).toISOString(),
          updatedBy: command.updatedBy,
          ...(comment !== undefined ? { comment } : {}),
        },
      };
    });
  }

  async delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }> {
    const { key, expectedVersion } = command;
    const name = this.paths.parameterName(tenant, key);
    return this.opts.lease.run(tenant, key, async (held) => {
      const current = await this.currentVersion(name);
      if (current === undefined) throw new NotFoundError(`'${key.raw}' does not exist`);
      if (expectedVersion !== undefined && current !== expectedVersion) {
        throw new PreconditionFailedError(`'${key.raw}' is at version ${current}, not ${expectedVersion}`, current);
      }
      await this.ensureLeaseTime(held, key);
      try {
        await this.opts.client.send(new DeleteParameterCommand({ Name: name }));
      } catch (e) {
        if (isSdkError(e, 'ParameterNotFound')) throw new NotFoundError(`'${key.raw}' does not exist`);
        throw translateSdkError(e, 'Parameter Store', `deleting '${key.raw}'`);
      }
      // The delete stands even if this fails: a listing skips the leftover key and prunes it.
      await this.opts.keyIndex?.remove(tenant, key).catch(() => undefined);
      return { version: current };
    });
  }

  async history(tenant: TenantId, key: ConfigKey, limit: number): Promise<readonly HistoryEntry[]> {
    const name = this.paths.parameterName(tenant, key);
    const versions: HistoryEntry[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      let out;
      try {
        out = await this.opts.client.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true, MaxResults: HISTORY_PAGE, NextToken: nextToken }));
      } catch (e) {
        if (isSdkError(e, 'ParameterNotFound')) return [];
        throw translateSdkError(e, 'Parameter Store', `reading the history of '${key.raw}'`);
      }
      for (const v of out.Parameters ?? []) {
        // Each version keeps its own Description, so each shows its own comment.
        const comment = commentOf(v.Version!, v.Description);
        versions.push({
          version: v.Version!,
          value: decodeParameterValue(v.Value ?? ''),
          updatedAt: (v.LastModifiedDate ?? new Date(0)).toISOString(),
          updatedBy: writerOf(v.Version!, v.Description, v.LastModifiedUser),
          ...(comment !== undefined ? { comment } : {}),
        });
      }
      nextToken = out.NextToken || undefined;
      pages += 1;
    } while (nextToken && pages < MAX_HISTORY_PAGES);
    // Parameter Store answers oldest first; the port wants newest first.
    return versions.sort((a, b) => b.version - a.version).slice(0, limit);
  }

  /** `meta` is the same version's metadata: its Description holds the writer note (writer and comment). */
  private toItem(key: ConfigKey, parameter: Parameter, meta: ParameterMetadata | undefined): ConfigItem {
    const comment = commentOf(parameter.Version!, meta?.Description);
    return {
      key: key.raw,
      value: decodeParameterValue(parameter.Value ?? ''),
      version: parameter.Version!,
      updatedAt: (parameter.LastModifiedDate ?? new Date(0)).toISOString(),
      updatedBy: writerOf(parameter.Version!, meta?.Description, meta?.LastModifiedUser),
      ...(comment !== undefined ? { comment } : {}),
    };
  }

  /** A slow read (a cold client, a first call to a region) can eat the lease: renew it rather than write at its edge. */
  private async ensureLeaseTime(held: HeldLease, key: ConfigKey): Promise<void> {
    if (held.remainingMs() >= MIN_LEASE_LEFT_MS) return;
    await held.renew();
    if (held.remainingMs() < MIN_LEASE_LEFT_MS) {
      throw new ConflictError(`the write lease on '${key.raw}' ran short before the write; retry`);
    }
  }

  private async currentVersion(name: string): Promise<number | undefined> {
    return (await this.fetchParameter(name, false))?.Version;
  }

  /** GetParameter; undefined when the parameter (or the selected version) does not exist. */
  private async fetchParameter(name: string, withDecryption: boolean): Promise<Parameter | undefined> {
    try {
      const out = await this.opts.client.send(new GetParameterCommand({ Name: name, WithDecryption: withDecryption }));
      return out.Parameter;
    } catch (e) {
      if (isSdkError(e, 'ParameterNotFound') || isSdkError(e, 'ParameterVersionNotFound')) return undefined;
      throw translateSdkError(e, 'Parameter Store', 'reading a parameter');
    }
  }

  /**
   * The tenants of this stage's parameters, from DescribeParameters over the tenants path
   * (metadata only, never values, 50 names a call): a walk of every parameter, so it is the
   * stopgap until a tenant registry lists tenants. Parameter Store's order is its own, so a
   * tenant with many parameters appears on several pages.
   */
  async listTenants(page: PageRequest): Promise<Page<TenantId>> {
    const out = await this.call('listing tenants', () =>
      this.opts.client.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: [this.paths.tenantsPath.replace(/\/$/, '')] }],
          MaxResults: Math.min(DESCRIBE_BATCH, Math.max(1, page.limit)),
          NextToken: page.cursor,
        }),
      ),
    );
    const tenants = new Set<TenantId>();
    for (const meta of out.Parameters ?? []) {
      const tenant = meta.Name === undefined ? undefined : this.paths.locate(meta.Name)?.tenant;
      if (tenant !== undefined && TENANT_ID_PATTERN.test(tenant)) tenants.add(tenant as TenantId);
    }
    return out.NextToken ? { items: [...tenants], cursor: out.NextToken } : { items: [...tenants] };
  }

  /** Metadata (Description, LastModifiedUser) of the named parameters, following every page. */
  private async describe(names: readonly string[]): Promise<Map<string, ParameterMetadata>> {
    const found = new Map<string, ParameterMetadata>();
    for (let i = 0; i < names.length; i += DESCRIBE_BATCH) {
      const batch = names.slice(i, i + DESCRIBE_BATCH);
      let seen = 0;
      let nextToken: string | undefined;
      do {
        const out = await this.call('describing parameters', () =>
          this.opts.client.send(
            new DescribeParametersCommand({
              ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: batch }],
              MaxResults: DESCRIBE_BATCH,
              NextToken: nextToken,
            }),
          ),
        );
        for (const meta of out.Parameters ?? []) {
          if (meta.Name && batch.includes(meta.Name)) {
            found.set(meta.Name, meta);
            seen += 1;
          }
        }
        nextToken = out.NextToken || undefined;
        // AWS may answer a filtered describe with short (even empty) pages and a token: follow it until all are seen.
      } while (nextToken && seen < batch.length);
    }
    return found;
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw translateSdkError(e, 'Parameter Store', doing);
    }
  }
}
