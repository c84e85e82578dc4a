import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DecodedRow } from '../../core/change-events';
import type { ConfigItem, HistoryEntry, JsonValue } from '../../core/item';
import { ITEM_ATTRIBUTES as A } from './table-definition';

/**
 * How a config item is laid out in the tenant table, shared by the backend and by
 * whoever reads the table's stream images (cache refresh, local change routing).
 *
 * The value is stored as JSON text (`valueJson`), not as a native DynamoDB map:
 * JSON round-trips exactly (object key order, `-0`, numbers as written, empty
 * containers), the stored size is the size the tag's `maxValueBytes` limits, and a
 * stream image carries the same JSON the API returns, with no type mapping to agree on.
 */
export interface StoredVersion {
  readonly version: number;
  readonly valueJson: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** The writer's comment on this version; absent when the write gave none. */
  readonly comment?: string;
}

/** A row of the tenant table: what a stream image holds (`version` is 0 only for a row written by hand, see {@link decodeStoredItem}; `valueJson` is absent on a tombstone), plus its history. */
export interface StoredItem extends DecodedRow {
  /** The writer's comment on the current version (`comment`); absent when none was given, and on a tombstone. Not part of what the cache receives. */
  readonly comment?: string;
  /** Earlier live versions, newest first; never includes the current one. */
  readonly history: readonly StoredVersion[];
  /** False for a hand-written row with no `version` attribute: the next write must condition on its absence. */
  readonly hasVersionAttribute: boolean;
}

export function encodeStoredItem(item: StoredItem): Record<string, AttributeValue> {
  return marshall(
    {
      [A.tenantId]: item.tenantId,
      [A.configKey]: item.configKey,
      [A.version]: item.version,
      [A.deleted]: item.deleted,
      [A.valueJson]: item.valueJson,
      [A.updatedAt]: item.updatedAt,
      [A.updatedBy]: item.updatedBy,
      [A.comment]: item.comment,
      [A.history]: item.history.map((h) => ({ ...h })),
    },
    { removeUndefinedValues: true },
  );
}

/**
 * Reads a table row or stream image. Rows written straight into the table (AWS CLI,
 * console) are accepted when they carry a native `value` attribute instead of
 * `valueJson`, or no `version` (read as 0, so the next API write makes it 1).
 */
export function decodeStoredItem(image: Record<string, AttributeValue>): StoredItem {
  const raw = unmarshall(image) as Record<string, unknown>;
  const versionAttr = raw[A.version];
  const version = versionAttr === undefined ? 0 : toInteger(versionAttr, `${A.version} of '${String(raw[A.configKey])}'`);
  const deleted = raw[A.deleted] === true;
  let valueJson = typeof raw[A.valueJson] === 'string' ? (raw[A.valueJson] as string) : undefined;
  if (valueJson === undefined && !deleted && 'value' in image) valueJson = nativeValueToJson(image.value);
  const history = Array.isArray(raw[A.history]) ? (raw[A.history] as Record<string, unknown>[]).map(decodeVersion) : [];
  return {
    tenantId: String(raw[A.tenantId]),
    configKey: String(raw[A.configKey]),
    version,
    deleted: deleted || valueJson === undefined,
    valueJson,
    updatedAt: typeof raw[A.updatedAt] === 'string' ? (raw[A.updatedAt] as string) : new Date(0).toISOString(),
    updatedBy: typeof raw[A.updatedBy] === 'string' ? (raw[A.updatedBy] as string) : 'unknown',
    ...commentIn(raw[A.comment]),
    history,
    hasVersionAttribute: versionAttr !== undefined,
  };
}

/** The live item, or undefined for a tombstone. */
export function toConfigItem(stored: StoredItem): ConfigItem | undefined {
  if (stored.deleted || stored.valueJson === undefined) return undefined;
  return {
    key: stored.configKey,
    value: parseJson(stored.valueJson, stored.configKey),
    version: stored.version,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
    ...commentIn(stored.comment),
  };
}

/** Newest first: the current version (unless deleted), then the kept earlier ones. */
export function historyOf(stored: StoredItem): HistoryEntry[] {
  const current: StoredVersion[] = !stored.deleted && stored.valueJson !== undefined ? [currentVersionOf(stored)] : [];
  return [...current, ...stored.history].map((h) => ({
    version: h.version,
    value: parseJson(h.valueJson, stored.configKey),
    updatedAt: h.updatedAt,
    updatedBy: h.updatedBy,
    ...commentIn(h.comment),
  }));
}

/** The live row's current version as a history entry (its comment included), for pushing into the history on the next write. */
export function currentVersionOf(stored: StoredItem): StoredVersion {
  if (stored.valueJson === undefined) throw new Error(`'${stored.configKey}' has no value to keep in its history`);
  return {
    version: stored.version,
    valueJson: stored.valueJson,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
    ...commentIn(stored.comment),
  };
}

/** `{ comment }` for a non-empty string, else nothing: an absent, empty or hand-written non-string comment is no comment. */
export function commentIn(value: unknown): { comment?: string } {
  return typeof value === 'string' && value.length > 0 ? { comment: value } : {};
}

function decodeVersion(entry: Record<string, unknown>): StoredVersion {
  return {
    version: toInteger(entry.version, 'history version'),
    valueJson: String(entry.valueJson),
    updatedAt: String(entry.updatedAt),
    updatedBy: String(entry.updatedBy),
    ...commentIn(entry.comment),
  };
}

function toInteger(value: unknown, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`stored ${what} is not a non-negative integer: ${String(value)}`);
  return n;
}

function parseJson(text: string, configKey: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new Error(`stored value of '${configKey}' is not valid JSON`);
  }
}

/** A hand-written native attribute as JSON: sets become sorted arrays, binary becomes base64. */
function nativeValueToJson(value: AttributeValue): string {
  // JSON numbers are doubles anyway: a 38-digit DynamoDB number becomes the nearest one.
  const { v } = unmarshall({ v: value }, { wrapNumbers: (digits: string) => Number(digits) }) as { v: unknown };
  return JSON.stringify(v, (_k, x: unknown) => {
    // DynamoDB sets have no order: sort, so the same set always reads as the same JSON.
    if (x instanceof Set) return [...(x as Set<string | number>)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
    return x;
  });
}
