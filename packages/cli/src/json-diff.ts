/**
 * A readable diff of two JSON values: one line per changed leaf, addressed by its path
 * (`limits.max`, `hosts[2]`). Objects are compared member by member, arrays element by
 * element; anything else (or a change of type) is one replacement.
 */
export type DiffOp = 'add' | 'remove' | 'change';

export interface DiffEntry {
  /** `$` for the value itself, then `.member` / `[index]` (members that are not identifiers quoted: `["a b"]`). */
  readonly path: string;
  readonly op: DiffOp;
  readonly from?: unknown;
  readonly to?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const member = (path: string, name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`);

export function jsonEqual(a: unknown, b: unknown): boolean {
  return jsonDiff(a, b).length === 0;
}

export function jsonDiff(from: unknown, to: unknown, path = '$'): DiffEntry[] {
  if (isObject(from) && isObject(to)) {
    const out: DiffEntry[] = [];
    const names = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    for (const name of names) {
      const p = member(path, name);
      if (!(name in to)) out.push({ path: p, op: 'remove', from: from[name] });
      else if (!(name in from)) out.push({ path: p, op: 'add', to: to[name] });
      else out.push(...jsonDiff(from[name], to[name], p));
    }
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const out: DiffEntry[] = [];
    for (let i = 0; i < Math.max(from.length, to.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= to.length) out.push({ path: p, op: 'remove', from: from[i] });
      else if (i >= from.length) out.push({ path: p, op: 'add', to: to[i] });
      else out.push(...jsonDiff(from[i], to[i], p));
    }
    return out;
  }
  if (from === to || (Number.isNaN(from) && Number.isNaN(to))) return [];
  if (from === undefined) return [{ path, op: 'add', to }];
  if (to === undefined) return [{ path, op: 'remove', from }];
  return [{ path, op: 'change', from, to }];
}

const show = (v: unknown): string => JSON.stringify(v);

/** `~ $.limits.max: 10 → 20`, `+ $.burst: 5`, `- $.old: true`; `(no differences)` when none. */
export function formatDiff(entries: readonly DiffEntry[], indent = ''): string[] {
  if (entries.length === 0) return [`${indent}(no differences)`];
  return entries.map((e) => {
    if (e.op === 'add') return `${indent}+ ${e.path}: ${show(e.to)}`;
    if (e.op === 'remove') return `${indent}- ${e.path}: ${show(e.from)}`;
    return `${indent}~ ${e.path}: ${show(e.from)} → ${show(e.to)}`;
  });
}
