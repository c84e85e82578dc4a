/** Text for people, JSON for scripts (`--output json`: one JSON document, or one object per line for watch). */
import type { Json } from './api';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** A value on one line, cut to `max` characters. */
export function compact(value: unknown, max = 60): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export const pretty = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'undefined';

/** Rows as aligned columns (the last column is never padded). */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** `tenantconfig:limits  (version 3, source tenant, 2026-12-01T10:00:00.000Z by alice)` then the value. */
export function describeItem(item: Json): string {
  const meta = [`version ${item.version}`];
  if (item.source) meta.push(`source ${item.source}`);
  if (item.updatedAt) meta.push(`${item.updatedAt}${item.updatedBy ? ` by ${item.updatedBy}` : ''}`);
  if (item.comment) meta.push(`comment ${JSON.stringify(item.comment)}`);
  return `${item.key}  (${meta.join(', ')})\n${pretty(item.value)}\n`;
}
