/**
 * The export file and import's rule. An export holds each key of the tenant's own layer with the
 * version it had. Import compares each key with what the tenant holds now:
 * - absent now and absent from the export's versions (a new key) → create (`If-None-Match: *`);
 * - same value as now → nothing to do;
 * - now at the exported version → update with `If-Match: <that version>`;
 * - anything else (changed, or deleted, since the export) → a conflict: nothing is written unless
 *   `--force`, which writes over the current version (still with `If-Match`, so a write racing
 *   the import is never lost silently).
 * Keys the tenant holds that the file does not are left alone: import never deletes.
 */
import { jsonDiff, type DiffEntry } from './json-diff';

export const EXPORT_FORMAT = 'tenant-config-export/1';

export interface ExportItem {
  readonly key: string;
  readonly value: unknown;
  /** The version at export; absent for a key added to the file by hand. */
  readonly version?: number;
}

export interface ExportFile {
  readonly format: typeof EXPORT_FORMAT;
  /** The tenant exported (`--tenant`), or null for the caller's own tenant. */
  readonly tenant: string | null;
  readonly exportedAt: string;
  readonly items: readonly ExportItem[];
}

export interface CurrentItem {
  readonly key: string;
  readonly value: unknown;
  readonly version: number;
}

export type PlanAction =
  | { readonly kind: 'create'; readonly key: string; readonly value: unknown; readonly headers: Record<string, string> }
  | {
      readonly kind: 'update';
      readonly key: string;
      readonly value: unknown;
      readonly headers: Record<string, string>;
      readonly diff: DiffEntry[];
      readonly forced: boolean;
    }
  | { readonly kind: 'unchanged'; readonly key: string }
  | { readonly kind: 'conflict'; readonly key: string; readonly exportedVersion?: number; readonly currentVersion?: number; readonly diff: DiffEntry[] };

export function parseExportFile(text: string, name: string): ExportFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const f = parsed as Partial<ExportFile>;
  if (typeof f !== 'object' || f === null || f.format !== EXPORT_FORMAT || !Array.isArray(f.items)) {
    throw new Error(`${name} is not an export of tenant-config (expected {"format": "${EXPORT_FORMAT}", "items": [...]})`);
  }
  const seen = new Set<string>();
  for (const [i, item] of f.items.entries()) {
    if (typeof item !== 'object' || item === null || typeof item.key !== 'string' || !('value' in item))
      throw new Error(`${name}: items[${i}] needs a key and a value`);
    if (item.version !== undefined && (!Number.isInteger(item.version) || item.version < 1))
      throw new Error(`${name}: items[${i}].version must be a positive integer`);
    if (seen.has(item.key)) throw new Error(`${name}: the key ${item.key} appears twice`);
    seen.add(item.key);
  }
  return { format: EXPORT_FORMAT, tenant: typeof f.tenant === 'string' ? f.tenant : null, exportedAt: String(f.exportedAt ?? ''), items: f.items };
}

const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });

export function planImport(file: ExportFile, current: readonly CurrentItem[], force: boolean): PlanAction[] {
  const now = new Map(current.map((c) => [c.key, c]));
  return file.items.map((item): PlanAction => {
    const held = now.get(item.key);
    if (!held) {
      if (item.version === undefined || force) return { kind: 'create', key: item.key, value: item.value, headers: { 'if-none-match': '*' } };
      return { kind: 'conflict', key: item.key, exportedVersion: item.version, diff: jsonDiff(undefined, item.value) };
    }
    const diff = jsonDiff(held.value, item.value);
    if (diff.length === 0) return { kind: 'unchanged', key: item.key };
    if (item.version === held.version) return { kind: 'update', key: item.key, value: item.value, headers: ifMatch(held.version), diff, forced: false };
    if (force) return { kind: 'update', key: item.key, value: item.value, headers: ifMatch(held.version), diff, forced: true };
    return { kind: 'conflict', key: item.key, exportedVersion: item.version, currentVersion: held.version, diff };
  });
}
