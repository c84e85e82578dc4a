/**
 * Reading settings from environment variables, for every runtime (the Lambdas, the fanout,
 * the cache connection): each runtime's environment file declares its variables with these
 * helpers, reads them once at start, and a missing or malformed one fails fast with its name
 * in a {@link ConfigurationError}. Modelled on Powertools' commons envUtils.
 */

/** A setting is missing or malformed; the message starts with the variable's name. */
export class ConfigurationError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigurationError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** One Parameter Store path segment (SSM_ROOT, STAGE): no slashes, no spaces. */
export const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;
/** A JWT claim name, e.g. `tenant_id` or `custom:tenant_id`. */
export const CLAIM_NAME = /^[A-Za-z0-9_:.-]{1,128}$/;
/** A DynamoDB table name. */
export const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

interface Spec {
  readonly key: string;
  /** What a valid value looks like, for the error message, e.g. 'a claim name'. */
  readonly what?: string;
  readonly pattern?: RegExp;
}

const shown = (raw: string) => `'${raw.slice(0, 64)}'`;

/** The trimmed value, or undefined when unset or blank. */
export function getOptionalStringFromEnv(env: Env, spec: Spec): string | undefined {
  const value = env[spec.key]?.trim();
  if (!value) return undefined;
  if (spec.pattern && !spec.pattern.test(value)) throw new ConfigurationError(spec.key, `must be ${spec.what ?? `match ${spec.pattern}`}, got ${shown(value)}`);
  return value;
}

/** The trimmed value; the default when unset; a ConfigurationError when unset without a default. */
export function getStringFromEnv(env: Env, spec: Spec & { readonly defaultValue?: string }): string {
  const value = getOptionalStringFromEnv(env, spec) ?? spec.defaultValue;
  if (value === undefined) throw new ConfigurationError(spec.key, 'is not set');
  return value;
}

/** A whole number in [min, max], or undefined when unset (the caller's default applies). */
export function getOptionalIntegerFromEnv(env: Env, spec: { readonly key: string; readonly min: number; readonly max: number }): number | undefined {
  const raw = env[spec.key]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < spec.min || value > spec.max) {
    throw new ConfigurationError(spec.key, `must be an integer from ${spec.min} to ${spec.max}, got ${shown(raw)}`);
  }
  return value;
}

export function getIntegerFromEnv(env: Env, spec: { readonly key: string; readonly min: number; readonly max: number; readonly defaultValue: number }): number {
  return getOptionalIntegerFromEnv(env, spec) ?? spec.defaultValue;
}

/** `true` or `false`, exactly; the default when unset. */
export function getBooleanFromEnv(env: Env, spec: { readonly key: string; readonly defaultValue: boolean }): boolean {
  const raw = env[spec.key]?.trim();
  if (!raw) return spec.defaultValue;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigurationError(spec.key, `must be 'true' or 'false', got ${shown(raw)}`);
}

/** One of the listed words; the default when unset. */
export function getChoiceFromEnv<C extends string>(env: Env, spec: { readonly key: string; readonly choices: readonly C[]; readonly defaultValue: C }): C {
  const raw = env[spec.key]?.trim();
  if (!raw) return spec.defaultValue;
  if (!(spec.choices as readonly string[]).includes(raw)) throw new ConfigurationError(spec.key, `must be ${spec.choices.join(', ')}, got ${shown(raw)}`);
  return raw as C;
}

/** One path segment, leading and trailing slashes forgiven (`/tenant-config/` → `tenant-config`). */
export function getPathSegmentFromEnv(env: Env, key: string): string {
  const raw = env[key]?.trim().replace(/^\/+|\/+$/g, '');
  if (!raw) throw new ConfigurationError(key, 'is not set');
  if (!PATH_SEGMENT.test(raw)) throw new ConfigurationError(key, `must be one path segment of [A-Za-z0-9_.-], got ${shown(raw)}`);
  return raw;
}

/** An http(s) URL. */
export function getUrlFromEnv(env: Env, spec: { readonly key: string; readonly required: true }): string;
export function getUrlFromEnv(env: Env, spec: { readonly key: string; readonly required?: false }): string | undefined;
export function getUrlFromEnv(env: Env, spec: { readonly key: string; readonly required?: boolean }): string | undefined {
  const raw = spec.required ? getStringFromEnv(env, spec) : getOptionalStringFromEnv(env, spec);
  if (raw === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'https:' && protocol !== 'http:') throw new ConfigurationError(spec.key, `must be an http(s) URL, got ${shown(raw)}`);
  return raw;
}
