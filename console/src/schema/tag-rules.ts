/**
 * What the API will check of a value, checked in the page first: the key's tag exists, the value
 * fits the tag's size limit and its JSON schema. The tag registry is bundled at build time, so
 * the page and the API read the same file.
 */
import registry from '../../../registry/tags.json';
import { validateJson, type JsonSchema, type SchemaError } from './json-schema';

interface TagDefinition {
  readonly maxValueBytes: number;
  readonly secret: boolean;
  readonly description?: string;
  readonly schema?: JsonSchema;
}

const TAGS = (registry as unknown as { tags: Record<string, TagDefinition> }).tags;

export const TAG_NAMES: readonly string[] = Object.keys(TAGS);

export function tagOf(key: string): string | undefined {
  const at = key.indexOf(':');
  return at > 0 ? key.slice(0, at) : undefined;
}

export function isSecretKey(key: string): boolean {
  const tag = tagOf(key);
  return tag !== undefined && TAGS[tag]?.secret === true;
}

export function tagDescription(key: string): string | undefined {
  const tag = tagOf(key);
  return tag === undefined ? undefined : TAGS[tag]?.description;
}

/** The problems with writing `value` under `key`, as sentences; empty when the API should accept it. */
export function valueProblems(key: string, value: unknown): SchemaError[] {
  const tag = tagOf(key);
  const definition = tag === undefined ? undefined : TAGS[tag];
  if (!definition) return [{ path: '', message: `unknown tag '${tag ?? key}' (known: ${TAG_NAMES.join(', ')})` }];
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > definition.maxValueBytes) return [{ path: '', message: `is ${bytes} bytes; tag '${tag}' allows at most ${definition.maxValueBytes}` }];
  return definition.schema ? validateJson(definition.schema, value) : [];
}
