/**
 * A small JSON Schema (draft 2020-12 / 07 subset) validator for the tag schemas of
 * registry/tags.json, run in the page before a value is sent. Not ajv: ajv compiles schemas with
 * `new Function`, which the console's CSP (no 'unsafe-eval') forbids. Keywords it does not know
 * are skipped — the API validates with ajv anyway and its 400 detail is shown.
 */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export interface SchemaError {
  /** JSON Pointer of the failing value, '' for the value itself. */
  readonly path: string;
  readonly message: string;
  /** The failing keyword, when it says which branch of a oneOf was meant (`type`). */
  readonly keyword?: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function validateJson(schema: JsonSchema, value: unknown): SchemaError[] {
  const errors: SchemaError[] = [];
  check(schema, value as Json, '', schema, errors);
  return errors;
}

function typeOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function matchesType(type: string, value: Json): boolean {
  if (type === 'integer') return typeof value === 'number' && Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeOf(value) === type;
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node as JsonSchema | undefined;
}

function equal(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const pointer = (path: string, part: string | number) => `${path}/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function check(schema: JsonSchema, value: Json, path: string, root: JsonSchema, errors: SchemaError[]): void {
  if (schema === true) return;
  if (schema === false) return void errors.push({ path, message: 'is not allowed here' });
  const s = schema as Record<string, unknown>;
  const fail = (message: string) => errors.push({ path, message });

  if (typeof s.$ref === 'string') {
    const target = resolveRef(root, s.$ref);
    if (target !== undefined) check(target, value, path, root, errors);
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(t, value))) return void errors.push({ path, message: `must be ${types.join(' or ')}`, keyword: 'type' });
  }
  if (Array.isArray(s.enum) && !(s.enum as Json[]).some((v) => equal(v, value)))
    fail(`must be one of ${(s.enum as Json[]).map((v) => JSON.stringify(v)).join(', ')}`);
  if ('const' in s && !equal(s.const as Json, value)) fail(`must be ${JSON.stringify(s.const)}`);

  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) fail(`must be ≥ ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) fail(`must be ≤ ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) fail(`must be > ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) fail(`must be < ${s.exclusiveMaximum}`);
    if (typeof s.multipleOf === 'number' && !Number.isInteger(value / s.multipleOf)) fail(`must be a multiple of ${s.multipleOf}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof s.minLength === 'number' && length < s.minLength) fail(`must have at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && length > s.maxLength) fail(`must have at most ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) fail(`must match ${s.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) fail(`must have at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) fail(`must have at most ${s.maxItems} items`);
    if (s.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) fail('must have unique items');
    if (s.items !== undefined && !Array.isArray(s.items)) value.forEach((item, i) => check(s.items as JsonSchema, item, pointer(path, i), root, errors));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    for (const name of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!(name in value)) fail(`must have property '${name}'`);
    }
    const count = Object.keys(value).length;
    if (typeof s.minProperties === 'number' && count < s.minProperties) fail(`must have at least ${s.minProperties} properties`);
    if (typeof s.maxProperties === 'number' && count > s.maxProperties) fail(`must have at most ${s.maxProperties} properties`);
    for (const [name, member] of Object.entries(value)) {
      const at = pointer(path, name);
      if (name in properties) check(properties[name], member, at, root, errors);
      else if (s.additionalProperties === false) errors.push({ path: at, message: 'is not an allowed property' });
      else if (s.additionalProperties !== undefined && s.additionalProperties !== true) check(s.additionalProperties as JsonSchema, member, at, root, errors);
    }
  }

  const branches = (keyword: string) => (Array.isArray(s[keyword]) ? (s[keyword] as JsonSchema[]) : undefined);
  const passes = (sub: JsonSchema) => validateAt(sub, value, path, root).length === 0;
  for (const sub of branches('allOf') ?? []) check(sub, value, path, root, errors);
  const anyOf = branches('anyOf');
  if (anyOf && !anyOf.some(passes)) fail('must match one of the allowed shapes');
  const oneOf = branches('oneOf');
  if (oneOf) {
    const matching = oneOf.filter(passes).length;
    if (matching !== 1) {
      // The closest branch says most about what to fix: one of the value's own type, with the fewest errors.
      const distance = (errs: SchemaError[]) => errs.length + (errs.some((e) => e.keyword === 'type' && e.path === path) ? 1000 : 0);
      const closest = oneOf.map((sub) => validateAt(sub, value, path, root)).sort((a, b) => distance(a) - distance(b))[0];
      if (matching === 0 && closest && closest.length > 0 && closest.length <= 3) errors.push(...closest);
      else fail(matching === 0 ? 'must match one of the allowed shapes' : 'must match exactly one of the allowed shapes');
    }
  }
  if (s.not !== undefined && passes(s.not as JsonSchema)) fail('must not match the excluded shape');
}

function validateAt(schema: JsonSchema, value: Json, path: string, root: JsonSchema): SchemaError[] {
  const errors: SchemaError[] = [];
  check(schema, value, path, root, errors);
  return errors;
}
