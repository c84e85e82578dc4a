import type { ConfigKey } from './key';

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** One configuration entry as the API returns it. `version` increases on every write. */
export interface ConfigItem {
  readonly key: string;
  readonly value: JsonValue;
  readonly version: number;
  /** ISO-8601 instant of the write. */
  readonly updatedAt: string;
  /** Who wrote it: the token's subject for API writes. */
  readonly updatedBy: string;
  /** The writer's note on this version (`comment` of the PUT), when one was given. */
  readonly comment?: string;
}

/** An earlier (or the current) version of a key. */
export interface HistoryEntry {
  readonly version: number;
  readonly value: JsonValue;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** The writer's note on this version, when one was given. */
  readonly comment?: string;
}

/** At most this many characters in a write's `comment`. */
export const MAX_COMMENT_LENGTH = 256;

/** What a write may require of the current state: `'absent'` is `If-None-Match: *`. */
export type ExpectedVersion = number | 'absent' | undefined;

export interface PutCommand {
  readonly key: ConfigKey;
  readonly value: JsonValue;
  readonly expectedVersion?: ExpectedVersion;
  readonly updatedBy: string;
  /** Kept with this version in history (≤ {@link MAX_COMMENT_LENGTH} characters, checked by the caller). */
  readonly comment?: string;
}

export interface DeleteCommand {
  readonly key: ConfigKey;
  readonly expectedVersion?: number;
  readonly deletedBy: string;
}

export interface PutResult {
  readonly item: ConfigItem;
  /** True when the key did not exist before (201). */
  readonly created: boolean;
}
