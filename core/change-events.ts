import { parseKey, type ConfigKey } from './key';
import type { BackendKind, TagRegistry } from './tag-registry';
import { TENANT_ID_PATTERN, type TenantId } from './tenant';
import { layerOfOwner } from './layers';

/**
 * The two change events that refresh the cache, parsed into domain changes:
 * - a DynamoDB stream record (NEW_AND_OLD_IMAGES) that the EventBridge Pipe put on
 *   the config-changes bus, which carries the new value itself;
 * - a Parameter Store Change event from the default bus, which names the parameter
 *   but carries no value (the refresh reads it once).
 *
 * Parsing never throws: anything unexpected is a typed result, so a bad event is
 * logged and dropped instead of being retried into the DLQ. `foreign` means "not a
 * config change of ours" (another source, a write lease, a name outside this stage's
 * layout, an unregistered tag); `malformed` means "ours, but broken".
 */

/** A DynamoDB row change: the value or tombstone as the stream image holds it. */
export interface TableChange {
  readonly kind: 'table-change';
  readonly tenant: TenantId;
  readonly key: ConfigKey;
  readonly version: number;
  readonly deleted: boolean;
  /** The value as the JSON text stored in the row; absent when `deleted`. */
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /**
   * When the write happened, in epoch ms: the row's `updatedAt` when the stream's clock
   * (ApproximateCreationDateTime, whole seconds) agrees with it, else the stream's time.
   * For the refresh-lag metric; the cache orders DynamoDB changes by version alone.
   */
  readonly modifiedAtMs: number;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly sequenceNumber: string;
}

/**
 * A tenant registry row changed (attributes, offboarding): logged as the tenant's
 * `@attributes` entry (core/tenant-registry.ts), so its watchers move between segments.
 */
export interface AttributesChange {
  readonly kind: 'attributes-change';
  readonly tenant: TenantId;
  readonly version: number;
  readonly deleted: boolean;
  /** The cache entry's value as JSON (`{attributes, offboarded}`, core/layer-reads.ts); absent when deleted. */
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly modifiedAtMs: number;
}

/** A Parameter Store write: which key changed, not to what. */
export interface ParameterChangeNotice {
  readonly kind: 'parameter-change';
  readonly tenant: TenantId;
  readonly key: ConfigKey;
  readonly operation: 'Create' | 'Update' | 'Delete';
  /** The full parameter name, as in the event. */
  readonly parameterName: string;
  /** The event's time (second precision), for the refresh-lag metric. */
  readonly modifiedAtMs: number;
}

export interface ForeignEvent {
  readonly kind: 'foreign';
  readonly reason: string;
}

export interface MalformedEvent {
  readonly kind: 'malformed';
  readonly reason: string;
}

export type ParsedChangeEvent = TableChange | AttributesChange | ParameterChangeNotice | ForeignEvent | MalformedEvent;

/** A registry row as the table holds it, decoded by the registry's adapter. */
export interface DecodedRegistryRow {
  readonly tenantId: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** What the cache holds for the tenant's `@attributes`. */
  readonly valueJson: string;
}

/** What a stream image holds, decoded by the table's item codec (an adapter: core has no SDK types). */
export interface DecodedRow {
  readonly tenantId: string;
  readonly configKey: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface ChangeEventContext {
  readonly registry: TagRegistry;
  /** Source and DetailType the Pipe gives DynamoDB stream records (registry/event-patterns.json). */
  readonly pipeSource: string;
  readonly pipeDetailType: string;
  /** Decodes a stream image (DynamoDB JSON); may throw on a row it cannot read. */
  readonly decodeRow: (image: Record<string, unknown>) => DecodedRow;
  /** Sort keys that are not config keys (Parameter Store write leases start with '#'). */
  readonly isReservedSortKey: (sortKey: string) => boolean;
  /**
   * The SSM layout backwards: a parameter name → tenant and raw key, or undefined when the
   * name is outside this stage's `/<root>/<stage>/tenants/` hierarchy.
   */
  readonly keyOfParameter: (name: string) => { readonly tenant: string; readonly key: string } | undefined;
  /** The tenant registry's partition in the table and how to read its rows; without them, registry rows are foreign. */
  readonly tenantRegistry?: { readonly partition: string; readonly decode: (image: Record<string, unknown>) => DecodedRegistryRow };
}

const SSM_SOURCE = 'aws.ssm';
const SSM_DETAIL_TYPE = 'Parameter Store Change';
const STREAM_EVENT_NAMES = new Set(['INSERT', 'MODIFY', 'REMOVE']);
const SSM_OPERATIONS = new Set(['Create', 'Update', 'Delete']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const foreign = (reason: string): ForeignEvent => ({ kind: 'foreign', reason });
const malformed = (reason: string): MalformedEvent => ({ kind: 'malformed', reason });

/** Parses an EventBridge event of either kind. */
export function parseChangeEvent(event: unknown, ctx: ChangeEventContext): ParsedChangeEvent {
  if (!isObject(event)) return malformed('the event is not a JSON object');
  const source = event.source;
  const detailType = event['detail-type'];
  if (typeof source !== 'string' || typeof detailType !== 'string') return malformed('the event has no source or detail-type');
  if (!isObject(event.detail)) return malformed('the event has no detail object');
  if (source === ctx.pipeSource && detailType === ctx.pipeDetailType) return parseStreamRecord(event.detail, event, ctx);
  if (source === SSM_SOURCE && detailType === SSM_DETAIL_TYPE) return parseParameterStoreChange(event.detail, event, ctx);
  return foreign(`events from '${source}' / '${detailType}' are not change events`);
}

function parseStreamRecord(record: Record<string, unknown>, event: Record<string, unknown>, ctx: ChangeEventContext): ParsedChangeEvent {
  if (record.eventSource !== 'aws:dynamodb') return foreign(`the record's eventSource is not aws:dynamodb`);
  const eventName = record.eventName;
  if (typeof eventName !== 'string' || !STREAM_EVENT_NAMES.has(eventName)) return malformed('eventName is not INSERT, MODIFY or REMOVE');
  const stream = record.dynamodb;
  if (!isObject(stream)) return malformed('the record has no dynamodb object');
  const keys = stream.Keys;
  const tenantRaw = isObject(keys) && isObject(keys.tenantId) ? keys.tenantId.S : undefined;
  const sortKey = isObject(keys) && isObject(keys.configKey) ? keys.configKey.S : undefined;
  if (typeof tenantRaw !== 'string' || typeof sortKey !== 'string') return malformed('Keys lack tenantId or configKey strings');
  if (ctx.isReservedSortKey(sortKey)) return foreign('a reserved row (write lease), not a config item');
  if (ctx.tenantRegistry && tenantRaw === ctx.tenantRegistry.partition)
    return parseRegistryRecord(eventName, stream, sortKey, event, ctx.tenantRegistry.decode);
  const target = resolveTarget(tenantRaw, sortKey, 'dynamodb', ctx);
  if ('kind' in target) return target;

  const imageName = eventName === 'REMOVE' ? 'OldImage' : 'NewImage';
  const image = stream[imageName];
  if (!isObject(image)) return malformed(`a ${eventName} record without ${imageName}: the stream must be NEW_AND_OLD_IMAGES`);
  let row: DecodedRow;
  try {
    row = ctx.decodeRow(image);
  } catch (e) {
    return malformed(`${imageName} cannot be decoded: ${(e as Error).message}`);
  }
  if (row.tenantId !== tenantRaw || row.configKey !== sortKey) return malformed(`${imageName} does not belong to the record's Keys`);
  if (!Number.isSafeInteger(row.version) || row.version < 0) return malformed('the version is not a non-negative integer');
  const deleted = eventName === 'REMOVE' || row.deleted;
  if (!deleted) {
    if (typeof row.valueJson !== 'string') return malformed('a live row without a value');
    try {
      JSON.parse(row.valueJson);
    } catch {
      return malformed('the stored value is not valid JSON');
    }
  }

  const sequenceNumber = stream.SequenceNumber;
  if (typeof sequenceNumber !== 'string' || !/^[0-9]{1,40}$/.test(sequenceNumber)) return malformed('SequenceNumber is not a decimal string');
  const streamSeconds = streamTimeSeconds(stream.ApproximateCreationDateTime, event.time);
  if (streamSeconds === undefined) return malformed('the record has no ApproximateCreationDateTime and the event no time');
  const streamMs = Math.floor(streamSeconds * 1000);
  const updatedAtMs = Date.parse(row.updatedAt);
  // The row's own updatedAt has milliseconds; trust it when the stream's clock agrees (a hand-written row may carry any date).
  const modifiedAtMs = Number.isFinite(updatedAtMs) && !deleted && Math.abs(updatedAtMs - streamMs) < 2000 ? updatedAtMs : streamMs;

  return {
    kind: 'table-change',
    tenant: target.tenant,
    key: target.key,
    version: row.version,
    deleted,
    valueJson: deleted ? undefined : row.valueJson,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    modifiedAtMs,
    eventName: eventName as TableChange['eventName'],
    sequenceNumber,
  };
}

function parseRegistryRecord(
  eventName: string,
  stream: Record<string, unknown>,
  tenantRaw: string,
  event: Record<string, unknown>,
  decode: (image: Record<string, unknown>) => DecodedRegistryRow,
): ParsedChangeEvent {
  if (!TENANT_ID_PATTERN.test(tenantRaw)) return foreign('a registry row of a tenant id this service does not issue');
  const image = stream[eventName === 'REMOVE' ? 'OldImage' : 'NewImage'];
  if (!isObject(image)) return malformed('a registry record without its image: the stream must be NEW_AND_OLD_IMAGES');
  let row: DecodedRegistryRow;
  try {
    row = decode(image);
  } catch (e) {
    return malformed(`the registry row cannot be decoded: ${(e as Error).message}`);
  }
  if (row.tenantId !== tenantRaw) return malformed("the registry row does not belong to the record's Keys");
  if (!Number.isSafeInteger(row.version) || row.version < 1) return malformed('the registry version is not a positive integer');
  const seconds = streamTimeSeconds(stream.ApproximateCreationDateTime, event.time);
  const deleted = eventName === 'REMOVE';
  return {
    kind: 'attributes-change',
    tenant: tenantRaw as TenantId,
    // A removed record is newer than the last one it held.
    version: deleted ? row.version + 1 : row.version,
    deleted,
    valueJson: deleted ? undefined : row.valueJson,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    modifiedAtMs: seconds === undefined ? Date.parse(row.updatedAt) || 0 : Math.floor(seconds * 1000),
  };
}

function parseParameterStoreChange(detail: Record<string, unknown>, event: Record<string, unknown>, ctx: ChangeEventContext): ParsedChangeEvent {
  const { name, operation } = detail;
  if (typeof name !== 'string' || name.length === 0) return malformed('detail.name is not a parameter name');
  if (typeof operation !== 'string') return malformed('detail.operation is missing');
  if (!SSM_OPERATIONS.has(operation)) return foreign(`operation '${operation}' changes no value`);
  // Parameter Store reports writes that failed validation (e.g. aws:ec2:image) with an exception.
  if (detail.exception !== undefined) return foreign('the operation failed; nothing was written');
  const location = ctx.keyOfParameter(name);
  if (!location) return foreign("the parameter is outside this stage's tenant hierarchy");
  const target = resolveTarget(location.tenant, location.key, 'ssm', ctx);
  if ('kind' in target) return target;
  const time = typeof event.time === 'string' ? Date.parse(event.time) : NaN;
  if (!Number.isFinite(time)) return malformed('the event has no valid time');
  return {
    kind: 'parameter-change',
    tenant: target.tenant,
    key: target.key,
    operation: operation as ParameterChangeNotice['operation'],
    parameterName: name,
    modifiedAtMs: time,
  };
}

/** Tenant and key checked as strictly as the API checks them, and the tag served by `backend`. */
function resolveTarget(tenantRaw: string, keyRaw: string, backend: BackendKind, ctx: ChangeEventContext): { tenant: TenantId; key: ConfigKey } | ForeignEvent {
  // A layer's owner id (core/layers.ts) is as much ours as a tenant id: a default's change refreshes the cache too.
  if (!TENANT_ID_PATTERN.test(tenantRaw) && layerOfOwner(tenantRaw) === undefined) return foreign('the tenant id is not one this service issues');
  let key: ConfigKey;
  try {
    key = parseKey(keyRaw);
  } catch {
    return foreign('the key does not follow the key grammar');
  }
  const tag = ctx.registry.all().find((t) => t.name === key.tag);
  if (!tag) return foreign(`tag '${key.tag}' is not registered`);
  if (tag.backend !== backend) return foreign(`tag '${key.tag}' is not served by ${backend}`);
  return { tenant: tenantRaw as TenantId, key };
}

function streamTimeSeconds(approximate: unknown, eventTime: unknown): number | undefined {
  if (typeof approximate === 'number' && Number.isFinite(approximate) && approximate > 0) return approximate;
  const ms = typeof eventTime === 'string' ? Date.parse(eventTime) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}
