import { InvalidValueError, ValueTooLargeError } from './errors';
import { parseFlag } from './flags/flag-model';
import type { JsonValue } from './item';
import type { RegisteredTag } from './tag-registry';

/** UTF-8 size of the value as stored (`JSON.stringify`). */
export function valueBytes(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Checks a value against its tag's size limit and schema, before anything is written. */
export function checkValue(tag: RegisteredTag, value: JsonValue): void {
  const bytes = valueBytes(value);
  if (bytes > tag.maxValueBytes) {
    throw new ValueTooLargeError(`value is ${bytes} bytes; tag '${tag.name}' allows at most ${tag.maxValueBytes}`);
  }
  if (tag.validate && !tag.validate(value)) {
    const why = (tag.validate.errors ?? [])
      .slice(0, 3)
      .map((e) => `${e.instancePath || '(value)'} ${e.message ?? 'is invalid'}`)
      .join('; ');
    throw new InvalidValueError(`value does not match the schema of tag '${tag.name}': ${why}`);
  }
  const semantic = SEMANTIC_CHECKS[tag.name]?.(value);
  if (semantic) throw new InvalidValueError(`value of tag '${tag.name}' is refused: ${semantic}`);
}

/**
 * What a JSON schema cannot say, by tag: a flag's variant names unique, weights summing above 0,
 * rules and `offVariant` naming variants that exist (core/flags/flag-model.ts, which the SDK's
 * evaluator parses with too). Returns why the value is refused, or undefined.
 */
const SEMANTIC_CHECKS: Readonly<Record<string, (value: JsonValue) => string | undefined>> = {
  flags: (value) => {
    const parsed = parseFlag(value);
    return parsed.ok ? undefined : parsed.message;
  },
};
