/**
 * EventBridge event pattern matching, for routing events locally exactly as the
 * CDK rules will on AWS. No npm package matches EventBridge patterns faithfully, so this one is
 * ours; test/events/pattern-matcher.test.ts checks it against the documented semantics.
 *
 * Semantics follow the EventBridge user guide ("Event patterns", "Content
 * filtering", "Arrays in event patterns"):
 * - every field named in the pattern must match (AND); the values listed for one
 *   field are alternatives (OR);
 * - arrays in the event are transparent: a field matches when any element does,
 *   and nested pattern objects reach through arrays of objects (EventBridge
 *   flattens the event into paths, so each field is checked on its own);
 * - operators: exact value (string, number, boolean, null), `prefix`, `suffix`
 *   (both optionally `{ "equals-ignore-case": ... }`), `equals-ignore-case`,
 *   `wildcard`, `anything-but` (value, list, `prefix`, `suffix`,
 *   `equals-ignore-case`, `wildcard`), `exists`, `numeric`, `cidr` (IPv4) and `$or`.
 *
 * A malformed pattern throws {@link InvalidEventPatternError} when compiled, as
 * PutRule does, so a bad pattern in the registry fails at start, not per event.
 */

export class InvalidEventPatternError extends Error {
  constructor(message: string) {
    super(`invalid event pattern: ${message}`);
    this.name = 'InvalidEventPatternError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Leaf = null | boolean | number | string;

/** A compiled pattern: call it with any parsed JSON event. */
export type EventMatcher = (event: unknown) => boolean;

type LeafTest = (values: readonly Leaf[]) => boolean;
type NodeTest = (nodes: readonly unknown[]) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Compiles a pattern once; the returned function matches events against it. */
export function compilePattern(pattern: unknown): EventMatcher {
  if (!isObject(pattern)) throw new InvalidEventPatternError('the pattern must be a JSON object');
  if (Object.keys(pattern).length === 0) throw new InvalidEventPatternError('the pattern is empty');
  const test = compileObject(pattern, '');
  return (event) => test([event]);
}

/** One-off match; prefer {@link compilePattern} for a pattern used more than once. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function compileObject(pattern: Record<string, unknown>, path: string): NodeTest {
  const tests: NodeTest[] = [];
  for (const [field, rule] of Object.entries(pattern)) {
    const at = path ? `${path}.${field}` : field;
    if (field === '$or') {
      tests.push(compileOr(rule, path));
    } else if (Array.isArray(rule)) {
      const leafTest = compileLeaf(rule, at);
      tests.push((nodes) => leafTest(leafValuesAt(nodes, field)));
    } else if (isObject(rule)) {
      if (Object.keys(rule).length === 0) throw new InvalidEventPatternError(`'${at}' is an empty object`);
      const child = compileObject(rule, at);
      tests.push((nodes) => child(objectsAt(nodes, field)));
    } else {
      throw new InvalidEventPatternError(`'${at}' must be an array of match values or an object, got ${JSON.stringify(rule)}`);
    }
  }
  return (nodes) => tests.every((t) => t(nodes));
}

function compileOr(rule: unknown, path: string): NodeTest {
  if (!Array.isArray(rule) || rule.length < 2 || !rule.every(isObject)) {
    throw new InvalidEventPatternError(`'$or' at '${path || '(root)'}' must be an array of at least two pattern objects`);
  }
  const alternatives = rule.map((alt) => compileObject(alt as Record<string, unknown>, path));
  return (nodes) => alternatives.some((t) => t(nodes));
}

/** The leaf values of `field` under each node, looking through arrays; objects are not leaves. */
function leafValuesAt(nodes: readonly unknown[], field: string): Leaf[] {
  const out: Leaf[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (!isObject(v) && v !== undefined) out.push(v as Leaf);
  };
  for (const node of nodes) {
    if (isObject(node) && Object.prototype.hasOwnProperty.call(node, field)) collect(node[field]);
  }
  return out;
}

/** The object values of `field` under each node, looking through arrays. */
function objectsAt(nodes: readonly unknown[], field: string): unknown[] {
  const out: unknown[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (isObject(v)) out.push(v);
  };
  for (const node of nodes) {
    if (isObject(node) && Object.prototype.hasOwnProperty.call(node, field)) collect(node[field]);
  }
  return out;
}

/** A field's list of alternatives. `exists: false` is the one test that passes with no value at all. */
function compileLeaf(rules: unknown[], at: string): LeafTest {
  if (rules.length === 0) throw new InvalidEventPatternError(`'${at}' has an empty list of match values`);
  const valueTests: Array<(v: Leaf) => boolean> = [];
  const presenceTests: Array<(present: boolean) => boolean> = [];
  for (const rule of rules) {
    if (rule === null || typeof rule === 'string' || typeof rule === 'boolean' || typeof rule === 'number') {
      valueTests.push((v) => v === rule);
    } else if (isObject(rule)) {
      const keys = Object.keys(rule);
      if (keys.length !== 1) throw new InvalidEventPatternError(`'${at}': a matcher object has exactly one operator, got ${JSON.stringify(rule)}`);
      const op = keys[0];
      if (op === 'exists') {
        if (typeof rule.exists !== 'boolean') throw new InvalidEventPatternError(`'${at}': exists takes true or false`);
        const wanted = rule.exists;
        presenceTests.push((present) => present === wanted);
      } else {
        valueTests.push(compileOperator(op, rule[op], at));
      }
    } else {
      throw new InvalidEventPatternError(`'${at}': ${JSON.stringify(rule)} is not a match value`);
    }
  }
  return (values) => presenceTests.some((t) => t(values.length > 0)) || values.some((v) => valueTests.some((t) => t(v)));
}

function compileOperator(op: string, arg: unknown, at: string): (v: Leaf) => boolean {
  switch (op) {
    case 'prefix':
      return compileAffix(arg, at, 'prefix', (s, a) => s.startsWith(a));
    case 'suffix':
      return compileAffix(arg, at, 'suffix', (s, a) => s.endsWith(a));
    case 'equals-ignore-case': {
      const wanted = requireString(arg, at, op).toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === wanted;
    }
    case 'wildcard': {
      const re = wildcardRegExp(requireString(arg, at, op), at);
      return (v) => typeof v === 'string' && re.test(v);
    }
    case 'anything-but':
      return compileAnythingBut(arg, at);
    case 'numeric':
      return compileNumeric(arg, at);
    case 'cidr':
      return compileCidr(arg, at);
    default:
      throw new InvalidEventPatternError(`'${at}': unknown operator '${op}'`);
  }
}

function requireString(arg: unknown, at: string, op: string): string {
  if (typeof arg !== 'string') throw new InvalidEventPatternError(`'${at}': ${op} takes a string, got ${JSON.stringify(arg)}`);
  return arg;
}

/** `prefix`/`suffix` with a string, or with `{ "equals-ignore-case": "..." }`. */
function compileAffix(arg: unknown, at: string, op: string, test: (s: string, affix: string) => boolean): (v: Leaf) => boolean {
  if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') {
    const affix = (arg['equals-ignore-case'] as string).toLowerCase();
    return (v) => typeof v === 'string' && test(v.toLowerCase(), affix);
  }
  const affix = requireString(arg, at, op);
  return (v) => typeof v === 'string' && test(v, affix);
}

/** `*` matches any run of characters; `\*` is a literal star. Two stars in a row are refused, as EventBridge does. */
function wildcardRegExp(pattern: string, at: string): RegExp {
  if (/(?<!\\)\*\*/.test(pattern)) throw new InvalidEventPatternError(`'${at}': consecutive wildcard characters are not allowed`);
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      source += `\\${pattern[++i]}`;
    } else if (ch === '*') {
      source += '.*';
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function compileAnythingBut(arg: unknown, at: string): (v: Leaf) => boolean {
  if (typeof arg === 'string' || typeof arg === 'number') return (v) => v !== arg;
  if (Array.isArray(arg)) {
    const allStrings = arg.every((a) => typeof a === 'string');
    const allNumbers = arg.every((a) => typeof a === 'number');
    if (arg.length === 0 || !(allStrings || allNumbers)) {
      throw new InvalidEventPatternError(`'${at}': anything-but takes a list of only strings or only numbers`);
    }
    const excluded = new Set<unknown>(arg);
    return (v) => !excluded.has(v);
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [op] = Object.keys(arg);
    if (op === 'prefix' || op === 'suffix' || op === 'equals-ignore-case' || op === 'wildcard') {
      const inner = compileOperator(op, arg[op], `${at} anything-but`);
      // Negated string operators only judge strings, as EventBridge does.
      return (v) => typeof v === 'string' && !inner(v);
    }
  }
  throw new InvalidEventPatternError(`'${at}': unsupported anything-but ${JSON.stringify(arg)}`);
}

const NUMERIC_OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function compileNumeric(arg: unknown, at: string): (v: Leaf) => boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw new InvalidEventPatternError(`'${at}': numeric takes one or two [operator, number] pairs`);
  }
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const compare = NUMERIC_OPERATORS[arg[i] as string];
    const bound = arg[i + 1];
    if (!compare || typeof bound !== 'number') {
      throw new InvalidEventPatternError(`'${at}': numeric pair ${JSON.stringify([arg[i], bound])} is not [operator, number]`);
    }
    checks.push((n) => compare(n, bound));
  }
  return (v) => typeof v === 'number' && checks.every((c) => c(v));
}

function compileCidr(arg: unknown, at: string): (v: Leaf) => boolean {
  const m = typeof arg === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(arg) : null;
  const base = m ? ipv4ToInt(m[1]) : undefined;
  const bits = m ? Number(m[2]) : NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) {
    throw new InvalidEventPatternError(`'${at}': cidr takes an IPv4 block like 10.0.0.0/24, got ${JSON.stringify(arg)}`);
  }
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (v) => {
    const ip = typeof v === 'string' ? ipv4ToInt(v) : undefined;
    return ip !== undefined && (ip & mask) >>> 0 === (base & mask) >>> 0;
  };
}

function ipv4ToInt(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

export type { Json as EventPatternJson };
