/**
 * The one flag evaluation of the service: the API (`GET /v1/flags/{name}/evaluate`), the SDK
 * (`view.flag`, `view.flagDetails`) and the SDK's OpenFeature provider all call this function, and
 * test/fixtures/flag-vectors.json holds them to the same answers. Pure: no clock, no I/O, no
 * randomness — buckets are MurmurHash3 of (flag name, targeting key).
 *
 * Order: not found → unparsable → bad context → disabled → first matching rule → fall-through
 * (defaultVariant, or a split by rolloutPercent / weights, or the `on` of a plain boolean flag).
 * Reasons and error codes are OpenFeature's (https://openfeature.dev/specification/types).
 */
import { bucketOf } from '../bucket';
import {
  isNumericOp,
  OFF_VARIANT,
  ON_VARIANT,
  parseFlag,
  type FlagCondition,
  type FlagParse,
  type FlagDefinition,
  type FlagJson,
  type FlagVariant,
} from './flag-model';

export type FlagReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT' | 'ERROR';
export type FlagErrorCode = 'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';
export type FlagValueType = 'boolean' | 'string' | 'number' | 'object';

/** Evaluation-context attributes (OpenFeature's shape); `targetingKey` defaults to the tenant id. */
export type FlagContext = Readonly<Record<string, unknown>> & { readonly targetingKey?: unknown };

export interface FlagInput {
  /** The tenant the flag is read for: `tenant.id` in rules, and the targeting key when the context has none. */
  readonly tenantId?: string;
  /** The tenant's registry attributes (`tenant.<name>` in rules); never taken from the context. */
  readonly tenantAttributes?: Readonly<Record<string, string>>;
  readonly context?: FlagContext;
  /** The type the caller wants; another type is TYPE_MISMATCH (the caller's default applies). */
  readonly expectedType?: FlagValueType;
}

export interface FlagEvaluation {
  /** Absent when the caller's default applies (every ERROR, and DISABLED with no `offVariant`). */
  readonly value?: FlagJson;
  readonly variant?: string;
  readonly reason: FlagReason;
  readonly errorCode?: FlagErrorCode;
  readonly errorMessage?: string;
}

/** 10,000 buckets: a split is exact to 0.01 %. */
export const FLAG_BUCKETS = 10_000;

const errorResult = (errorCode: FlagErrorCode, errorMessage: string): FlagEvaluation => ({ reason: 'ERROR', errorCode, errorMessage });

class ContextError extends Error {}

/** Parses of object values, kept while the value lives: the SDK evaluates the one value it holds again and again. */
const parsedFlags = new WeakMap<object, FlagParse>();

function parsedFlag(value: unknown): FlagParse {
  if (typeof value !== 'object' || value === null) return parseFlag(value);
  let parsed = parsedFlags.get(value);
  if (!parsed) parsedFlags.set(value, (parsed = parseFlag(value)));
  return parsed;
}

/** Evaluates flag `name` (the key after `flags:`) whose effective value is `value` (undefined: no such flag). */
export function evaluateFlag(name: string, value: unknown, input: FlagInput = {}): FlagEvaluation {
  if (value === undefined) return errorResult('FLAG_NOT_FOUND', `flag '${name}' does not exist`);
  try {
    const parsed = parsedFlag(value);
    if (!parsed.ok) return errorResult('PARSE_ERROR', `flag '${name}' is malformed: ${parsed.message}`);
    const context = input.context ?? {};
    if (typeof context !== 'object' || context === null || Array.isArray(context))
      return errorResult('INVALID_CONTEXT', 'the evaluation context is not an object');
    const given = context.targetingKey;
    if (given !== undefined && typeof given !== 'string') return errorResult('INVALID_CONTEXT', 'targetingKey must be a string');
    const targetingKey = given || input.tenantId || undefined;
    return typed(resolve(name, parsed.flag, { ...input, context, targetingKey }), input.expectedType);
  } catch (e) {
    if (e instanceof ContextError) return errorResult('INVALID_CONTEXT', e.message);
    return errorResult('GENERAL', e instanceof Error ? e.message : String(e));
  }
}

interface Resolved extends FlagInput {
  readonly context: FlagContext;
  readonly targetingKey?: string;
}

function resolve(name: string, flag: FlagDefinition, input: Resolved): FlagEvaluation {
  if (!flag.enabled) {
    const off = flag.offVariant ?? (flag.implicitVariants ? OFF_VARIANT : undefined);
    return off === undefined ? { reason: 'DISABLED' } : serve(flag, off, 'DISABLED');
  }
  for (const rule of flag.rules) {
    if (rule.when.every((c) => holds(c, input))) return serve(flag, rule.serve.variant, 'TARGETING_MATCH');
  }
  // Nothing dynamic decided: STATIC for a flag without rules, DEFAULT when rules exist but none matched.
  const fallThrough = flag.rules.length === 0 ? 'STATIC' : 'DEFAULT';
  if (flag.implicitVariants && flag.rolloutPercent === undefined) return serve(flag, ON_VARIANT, fallThrough);
  if (!flag.implicitVariants && flag.defaultVariant !== undefined) return serve(flag, flag.defaultVariant, fallThrough);
  if (input.targetingKey === undefined)
    return errorResult('TARGETING_KEY_MISSING', `flag '${name}' splits by targeting key, and neither a targetingKey nor a tenant was given`);
  const bucket = bucketOf([name, input.targetingKey], FLAG_BUCKETS);
  if (flag.implicitVariants) return serve(flag, bucket < (flag.rolloutPercent as number) * (FLAG_BUCKETS / 100) ? ON_VARIANT : OFF_VARIANT, 'SPLIT');
  return serve(flag, byWeight(flag.variants, bucket).name, 'SPLIT');
}

/** The variant whose share of the buckets holds `bucket`: variants in their listed order, each `weight / total` wide. */
function byWeight(variants: readonly FlagVariant[], bucket: number): FlagVariant {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let upTo = 0;
  for (const v of variants) {
    upTo += v.weight;
    // Integer arithmetic: bucket / FLAG_BUCKETS < upTo / total, without rounding.
    if (v.weight > 0 && bucket * total < upTo * FLAG_BUCKETS) return v;
  }
  return variants.filter((v) => v.weight > 0).at(-1) as FlagVariant;
}

function serve(flag: FlagDefinition, variant: string, reason: FlagReason): FlagEvaluation {
  const found = flag.variants.find((v) => v.name === variant) as FlagVariant;
  return { value: found.value, variant, reason };
}

/** The attribute a condition reads: `tenant.id`, `tenant.<name>` from the registry, `targetingKey`, or the context's. */
function attributeOf(attribute: string, input: Resolved): unknown {
  if (attribute === 'tenant.id') return input.tenantId;
  if (attribute.startsWith('tenant.')) return input.tenantAttributes?.[attribute.slice('tenant.'.length)];
  if (attribute === 'targetingKey') return input.targetingKey;
  return Object.prototype.hasOwnProperty.call(input.context, attribute) ? input.context[attribute] : undefined;
}

/**
 * Text operators compare `String(value)`, numeric ones `Number(value)`: a query string's `"30"`
 * and an SDK caller's `30` then get the same answer. A missing attribute never holds, `not_in`
 * included (a rule cannot target "everyone who did not say").
 */
function holds(condition: FlagCondition, input: Resolved): boolean {
  const actual = attributeOf(condition.attribute, input);
  if (actual === undefined || actual === null) return false;
  if (typeof actual !== 'string' && typeof actual !== 'number' && typeof actual !== 'boolean') {
    throw new ContextError(`context attribute '${condition.attribute}' must be a string, number or boolean to be compared`);
  }
  if (isNumericOp(condition.op)) {
    const n = typeof actual === 'number' ? actual : typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : NaN;
    if (!Number.isFinite(n)) return false;
    const limit = condition.values[0] as number;
    switch (condition.op) {
      case 'gt':
        return n > limit;
      case 'gte':
        return n >= limit;
      case 'lt':
        return n < limit;
      default:
        return n <= limit;
    }
  }
  const text = String(actual);
  switch (condition.op) {
    case 'in':
      return condition.values.some((v) => String(v) === text);
    case 'not_in':
      return !condition.values.some((v) => String(v) === text);
    case 'starts_with':
      return condition.values.some((v) => text.startsWith(String(v)));
    default:
      return condition.values.some((v) => text.endsWith(String(v)));
  }
}

export function typeOfFlagValue(value: FlagJson): FlagValueType | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'object';
  return typeof value as FlagValueType;
}

/** OpenFeature's TYPE_MISMATCH: a resolved value of another type than asked becomes an error (the caller's default). */
function typed(result: FlagEvaluation, expected: FlagValueType | undefined): FlagEvaluation {
  if (expected === undefined || result.value === undefined) return result;
  const actual = typeOfFlagValue(result.value);
  if (actual === expected) return result;
  return errorResult('TYPE_MISMATCH', `flag value is ${actual === 'null' ? 'null' : `a ${actual}`}, not a ${expected}`);
}
