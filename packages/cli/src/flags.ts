/**
 * What `flag evaluate` sends and prints (docs/design.md "8.3 built: flags"): the path of
 * `GET /v1/flags/{name}/evaluate` (or its `/v1/tenants/{t}` twin) with the evaluation context as
 * query parameters, and the answer `{value?, variant?, reason, errorCode?, errorMessage?}` as text.
 * The context is checked here by the API's rules (lambda/config-api/request.ts `readFlagContext`),
 * so a bad pair is a usage error (exit 2) before any request.
 */
import { keyPath, type Json } from './api';
import { usageError } from './errors';
import { parseTenant } from './layers';
import { table } from './output';

/** A rule attribute's name, as core/flags/flag-model.ts `ATTRIBUTE_PATTERN` (the CLI bundles no server code). */
const ATTRIBUTE_NAME = /^(?=.{1,64}$)[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
/** As the API's MAX_FLAG_CONTEXT_PARAMETERS and MAX_FLAG_CONTEXT_VALUE_LENGTH. */
export const MAX_CONTEXT_PARAMETERS = 32;
export const MAX_CONTEXT_VALUE_LENGTH = 256;

export interface EvaluateArgs {
  readonly name: string;
  readonly tenant?: string;
  readonly targetingKey?: string;
  readonly context?: readonly string[];
}

/** `checkout` or `flags:checkout` → `checkout`; the API checks the rest of the key grammar. */
export function parseFlagName(value: string): string {
  const name = value.startsWith('flags:') ? value.slice('flags:'.length) : value;
  if (name === '' || /\s/.test(name) || name.startsWith('/') || name.endsWith('/')) {
    throw usageError(`not a flag name: '${value}' (the name of a flags: key, e.g. checkout for flags:checkout)`);
  }
  return name;
}

/** `--context plan=gold --context country=FR` → {plan: 'gold', country: 'FR'}, by the API's rules. */
export function parseFlagContext(pairs: readonly string[] = [], targetingKey?: string): Array<[string, string]> {
  const context: Array<[string, string]> = [];
  if (targetingKey !== undefined) {
    if (targetingKey.length > MAX_CONTEXT_VALUE_LENGTH) throw usageError(`--targeting-key is longer than ${MAX_CONTEXT_VALUE_LENGTH} characters`);
    context.push(['targetingKey', targetingKey]);
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--context must be name=value, got '${pair}'`);
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!ATTRIBUTE_NAME.test(name)) {
      throw usageError(`--context '${name}' is not an attribute name: dot-separated words of A-Z a-z 0-9 _ -, at most 64 characters`);
    }
    if (name === 'targetingKey') throw usageError('--context targetingKey=… cannot be given: use --targeting-key');
    if (name === 'tenant' || name.startsWith('tenant.')) {
      throw usageError(`--context '${name}' cannot be given: a tenant's attributes come from the tenant registry`);
    }
    if (context.some(([n]) => n === name)) throw usageError(`--context '${name}' is given twice`);
    if (value.length > MAX_CONTEXT_VALUE_LENGTH) throw usageError(`--context '${name}' is longer than ${MAX_CONTEXT_VALUE_LENGTH} characters`);
    context.push([name, value]);
  }
  if (context.length > MAX_CONTEXT_PARAMETERS) {
    throw usageError(`a flag evaluation takes at most ${MAX_CONTEXT_PARAMETERS} context attributes (--targeting-key included), got ${context.length}`);
  }
  return context;
}

/** `/v1/flags/checkout/evaluate?targetingKey=u1&country=FR`, or `/v1/tenants/acme/flags/…` with a tenant. */
export function evaluatePath(a: EvaluateArgs): string {
  const base = a.tenant === undefined ? '/v1' : `/v1/tenants/${encodeURIComponent(parseTenant(a.tenant))}`;
  const context = parseFlagContext(a.context, a.targetingKey);
  const query = context.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');
  return `${base}/flags/${keyPath(parseFlagName(a.name))}/evaluate${query ? `?${query}` : ''}`;
}

/** The answer for people: one line per field the API sent (no `value`: the caller's default applies). */
export function describeEvaluation(e: Json): string {
  const rows: string[][] = [['value', e.value === undefined ? "(none: the caller's default)" : JSON.stringify(e.value)]];
  if (e.variant !== undefined) rows.push(['variant', String(e.variant)]);
  rows.push(['reason', String(e.reason)]);
  if (e.errorCode !== undefined) rows.push(['errorCode', String(e.errorCode)]);
  if (e.errorMessage !== undefined) rows.push(['errorMessage', String(e.errorMessage)]);
  return table(rows);
}
