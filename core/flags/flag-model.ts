/**
 * The value of a `flags:` key (docs/design.md §8.3, "8.3 built: flags"), parsed into the one shape
 * the evaluator reads. The API checks a value with this parser before it is written (after the
 * tag's JSON schema in registry/tags.json), and the SDK parses what it holds with it too: the
 * SDK bundles this folder, so it imports nothing outside core/flags/ but core/bucket.ts.
 *
 * A value is `true`/`false` (= `{enabled: v}`), or an object: `enabled`, and either
 * `rolloutPercent` (on for that share of targeting keys) or weighted `variants` (with
 * `defaultVariant` or a split by weight), an optional `offVariant`, and ordered `rules`.
 */

/** Any JSON value (the same shape as core/item.ts's, repeated so this folder stands alone). */
export type FlagJson = null | boolean | number | string | FlagJson[] | { [k: string]: FlagJson };

export type ConditionOp = 'in' | 'not_in' | 'starts_with' | 'ends_with' | 'gt' | 'gte' | 'lt' | 'lte';
export const CONDITION_OPS: readonly ConditionOp[] = ['in', 'not_in', 'starts_with', 'ends_with', 'gt', 'gte', 'lt', 'lte'];
const NUMERIC_OPS: ReadonlySet<ConditionOp> = new Set(['gt', 'gte', 'lt', 'lte']);

export type ConditionValue = string | number | boolean;

export interface FlagCondition {
  /** `tenant.<attribute>` (registry), `tenant.id`, `targetingKey`, or any other name: an evaluation-context attribute. */
  readonly attribute: string;
  readonly op: ConditionOp;
  readonly values: readonly ConditionValue[];
}

export interface FlagRule {
  /** Every condition must hold (AND); the first rule that holds wins. */
  readonly when: readonly FlagCondition[];
  readonly serve: { readonly variant: string };
}

export interface FlagVariant {
  readonly name: string;
  readonly value: FlagJson;
  readonly weight: number;
}

export interface FlagDefinition {
  readonly enabled: boolean;
  readonly rolloutPercent?: number;
  readonly variants: readonly FlagVariant[];
  /** True for a boolean flag: variants `on` (true) and `off` (false) are implied. */
  readonly implicitVariants: boolean;
  readonly defaultVariant?: string;
  readonly offVariant?: string;
  readonly rules: readonly FlagRule[];
}

export const ON_VARIANT = 'on';
export const OFF_VARIANT = 'off';
export const MAX_VARIANTS = 32;
export const MAX_RULES = 32;
export const MAX_CONDITIONS = 16;
export const MAX_CONDITION_VALUES = 100;
export const MAX_WEIGHT = 1_000_000;
export const VARIANT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** An attribute name: dot-separated words (`tenant.plan` reads the registry's `plan`), at most 64 characters. */
export const ATTRIBUTE_PATTERN = /^(?=.{1,64}$)[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

const BOOLEAN_VARIANTS: readonly FlagVariant[] = [
  { name: ON_VARIANT, value: true, weight: 0 },
  { name: OFF_VARIANT, value: false, weight: 0 },
];
const MEMBERS = new Set(['enabled', 'rolloutPercent', 'variants', 'defaultVariant', 'offVariant', 'rules']);

export type FlagParse = { readonly ok: true; readonly flag: FlagDefinition } | { readonly ok: false; readonly message: string };

class FlagShapeError extends Error {}

const fail = (message: string): never => {
  throw new FlagShapeError(message);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks a flag value; `message` says exactly what is wrong (the API's 400 detail). */
export function parseFlag(value: unknown): FlagParse {
  try {
    return { ok: true, flag: parseOrThrow(value) };
  } catch (e) {
    if (e instanceof FlagShapeError) return { ok: false, message: e.message };
    throw e;
  }
}

function parseOrThrow(value: unknown): FlagDefinition {
  if (typeof value === 'boolean') return { enabled: value, variants: BOOLEAN_VARIANTS, implicitVariants: true, rules: [] };
  if (!isObject(value)) return fail('a flag is a boolean or an object with "enabled"');
  for (const member of Object.keys(value)) if (!MEMBERS.has(member)) fail(`unknown member "${member.slice(0, 64)}": a flag has ${[...MEMBERS].join(', ')}`);
  if (typeof value.enabled !== 'boolean') fail('"enabled" must be a boolean');
  const rolloutPercent = value.rolloutPercent;
  if (rolloutPercent !== undefined && !(Number.isInteger(rolloutPercent) && (rolloutPercent as number) >= 0 && (rolloutPercent as number) <= 100)) {
    fail('"rolloutPercent" must be an integer from 0 to 100');
  }
  const implicitVariants = value.variants === undefined;
  if (!implicitVariants && rolloutPercent !== undefined) fail('"rolloutPercent" is for boolean flags; a flag with "variants" splits by their weights');
  const variants = implicitVariants ? BOOLEAN_VARIANTS : parseVariants(value.variants);
  const names = new Set(variants.map((v) => v.name));
  const variantRef = (member: string, name: unknown): string | undefined => {
    if (name === undefined) return undefined;
    if (typeof name !== 'string' || !names.has(name))
      fail(`${member} names variant "${String(name).slice(0, 64)}", which is not one of ${[...names].join(', ')}`);
    return name as string;
  };
  const defaultVariant = variantRef('"defaultVariant"', value.defaultVariant);
  const offVariant = variantRef('"offVariant"', value.offVariant);
  if (!implicitVariants && defaultVariant === undefined && variants.every((v) => v.weight === 0)) {
    fail('the variants\' weights must sum to more than 0 (or name a "defaultVariant")');
  }
  const rules = parseRules(value.rules, (at, name) => variantRef(at, name) as string);
  return {
    enabled: value.enabled as boolean,
    ...(rolloutPercent !== undefined ? { rolloutPercent: rolloutPercent as number } : {}),
    variants,
    implicitVariants,
    ...(defaultVariant !== undefined ? { defaultVariant } : {}),
    ...(offVariant !== undefined ? { offVariant } : {}),
    rules,
  };
}

function parseVariants(raw: unknown): FlagVariant[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_VARIANTS) fail(`"variants" must be an array of 1 to ${MAX_VARIANTS} variants`);
  const seen = new Set<string>();
  return (raw as unknown[]).map((v, i) => {
    const at = `variants[${i}]`;
    if (!isObject(v)) return fail(`${at} must be an object {name, value, weight}`);
    for (const member of Object.keys(v)) if (!['name', 'value', 'weight'].includes(member)) fail(`${at} has unknown member "${member.slice(0, 64)}"`);
    if (typeof v.name !== 'string' || !VARIANT_NAME_PATTERN.test(v.name)) fail(`${at}.name must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    const name = v.name as string;
    if (seen.has(name)) fail(`${at}.name "${name}" is used by another variant: names must be unique`);
    seen.add(name);
    if (!('value' in v)) fail(`${at} ("${name}") has no value`);
    const weight = v.weight ?? 0;
    if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > MAX_WEIGHT) fail(`${at}.weight must be an integer from 0 to ${MAX_WEIGHT}`);
    return { name, value: v.value as FlagJson, weight: weight as number };
  });
}

function parseRules(raw: unknown, variantRef: (at: string, name: unknown) => string): FlagRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_RULES) fail(`"rules" must be an array of at most ${MAX_RULES} rules`);
  return (raw as unknown[]).map((rule, i) => {
    const at = `rules[${i}]`;
    if (!isObject(rule)) return fail(`${at} must be an object {when, serve}`);
    for (const member of Object.keys(rule)) if (member !== 'when' && member !== 'serve') fail(`${at} has unknown member "${member.slice(0, 64)}"`);
    if (!Array.isArray(rule.when) || rule.when.length === 0 || rule.when.length > MAX_CONDITIONS)
      fail(`${at}.when must be an array of 1 to ${MAX_CONDITIONS} conditions`);
    const when = (rule.when as unknown[]).map((c, j) => parseCondition(c, `${at}.when[${j}]`));
    const serve = rule.serve;
    if (!isObject(serve) || Object.keys(serve).length !== 1 || serve.variant === undefined) fail(`${at}.serve must be {"variant": <name>}`);
    return { when, serve: { variant: variantRef(`${at}.serve`, (serve as Record<string, unknown>).variant) } };
  });
}

function parseCondition(raw: unknown, at: string): FlagCondition {
  if (!isObject(raw)) return fail(`${at} must be an object {attribute, op, values}`);
  for (const member of Object.keys(raw)) if (!['attribute', 'op', 'values'].includes(member)) fail(`${at} has unknown member "${member.slice(0, 64)}"`);
  if (typeof raw.attribute !== 'string' || !ATTRIBUTE_PATTERN.test(raw.attribute)) {
    fail(`${at}.attribute must be "tenant.<attribute>", "targetingKey" or a context attribute name (letters, digits, _ . -)`);
  }
  const op = raw.op as ConditionOp;
  if (!CONDITION_OPS.includes(op)) fail(`${at}.op must be one of ${CONDITION_OPS.join(', ')}`);
  const values = raw.values;
  if (!Array.isArray(values) || values.length === 0 || values.length > MAX_CONDITION_VALUES)
    fail(`${at}.values must be an array of 1 to ${MAX_CONDITION_VALUES} values`);
  for (const v of values as unknown[]) {
    if (NUMERIC_OPS.has(op) ? typeof v !== 'number' || !Number.isFinite(v) : !['string', 'number', 'boolean'].includes(typeof v)) {
      fail(`${at}.values: ${NUMERIC_OPS.has(op) ? `"${op}" compares numbers` : 'a value is a string, number or boolean'}`);
    }
  }
  if (NUMERIC_OPS.has(op) && (values as unknown[]).length !== 1) fail(`${at}.values: "${op}" takes exactly one number`);
  return { attribute: raw.attribute as string, op, values: values as ConditionValue[] };
}

/** Whether an operator compares numbers (the others compare text). */
export const isNumericOp = (op: ConditionOp): boolean => NUMERIC_OPS.has(op);
