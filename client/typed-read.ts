/**
 * The readers every configuration view shares (the client, a tenant's view, the test double):
 * a value or a fallback, and typed getters that check the value instead of trusting a type
 * parameter. A wrong type throws ConfigValueTypeError naming the key, what was expected and what
 * was found; an absent key answers the fallback (or undefined).
 */
import { ConfigValueTypeError } from './errors';
import type { ClientItem } from './types';

/**
 * What `getJson` checks a value with: a type guard `(v) => v is T`, or anything with `parse`
 * that returns the value or throws (a zod schema, for one). No schema library is needed.
 */
export type ConfigSchema<T> = ((value: unknown) => value is T) | { parse(value: unknown): T };

/** A short, safe description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (length ${value.length})`;
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'number':
      return `a number (${value})`;
    case 'boolean':
      return `a boolean (${value})`;
    case 'object':
      return `an object (keys: ${
        Object.keys(value as object)
          .slice(0, 5)
          .join(', ') || 'none'
      })`;
    default:
      return typeof value;
  }
}

type Primitive = 'number' | 'boolean' | 'string';

export function primitiveOf<T>(key: string, item: ClientItem | undefined, expected: Primitive, fallback: T | undefined): T | undefined {
  if (!item) return fallback;
  const value = item.value;
  if (typeof value !== expected || (expected === 'number' && !Number.isFinite(value))) {
    throw new ConfigValueTypeError(key, expected, describeValue(value));
  }
  return value as T;
}

export function jsonOf<T>(key: string, item: ClientItem | undefined, schema?: ConfigSchema<T>): T | undefined {
  if (!item) return undefined;
  const value = item.value;
  if (!schema) return value as T;
  if (typeof schema === 'function') {
    if (schema(value)) return value;
    throw new ConfigValueTypeError(key, 'schema', describeValue(value), { detail: `rejected by ${schema.name || 'the type guard'}` });
  }
  try {
    return schema.parse(value);
  } catch (e) {
    throw new ConfigValueTypeError(key, 'schema', describeValue(value), { cause: e, detail: e instanceof Error ? e.message.slice(0, 200) : String(e) });
  }
}

/**
 * The read API of a configuration view, on top of `item(key)`: `get` with a fallback and the
 * typed getters. ConfigClient, TenantView and the test double implement it alike.
 */
export interface ConfigReader {
  get<T = unknown>(key: string): T | undefined;
  get<T>(key: string, fallback: T): T;
  getNumber(key: string): number | undefined;
  getNumber(key: string, fallback: number): number;
  getBoolean(key: string): boolean | undefined;
  getBoolean(key: string, fallback: boolean): boolean;
  getString(key: string): string | undefined;
  getString(key: string, fallback: string): string;
  getJson<T = unknown>(key: string, schema?: ConfigSchema<T>): T | undefined;
  getItem<T = unknown>(key: string): ClientItem<T> | undefined;
  keys(prefix?: string): string[];
}
