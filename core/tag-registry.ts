import Ajv, { type ValidateFunction } from 'ajv';
import registryData from '../registry/tags.json';
import { TAG_PATTERN, type ConfigKey, type KeyPrefix } from './key';
import { UnknownTagError } from './errors';

export type BackendKind = 'dynamodb' | 'ssm';

/** One tag's entry in `registry/tags.json`. */
export interface TagDefinition {
  readonly backend: BackendKind;
  readonly description?: string;
  /** Upper bound on `JSON.stringify(value)` in UTF-8 bytes; larger values are refused with 413. */
  readonly maxValueBytes: number;
  /** DynamoDB only: how many earlier versions are kept with the item. @default 10 */
  readonly historyDepth?: number;
  /** Secret values are stored encrypted (SecureString) and never logged. */
  readonly secret: boolean;
  /** Optional JSON Schema every value must satisfy. */
  readonly schema?: object;
  readonly cache?: { readonly negativeTtlSeconds?: number };
}

export interface TagRegistryData {
  readonly tags: Readonly<Record<string, TagDefinition>>;
}

export interface RegisteredTag extends TagDefinition {
  readonly name: string;
  /** Compiled schema, when the tag has one. */
  readonly validate?: ValidateFunction;
}

const BACKENDS: readonly BackendKind[] = ['dynamodb', 'ssm'];

/** The tag registry, validated once at start: a bad entry fails fast with the tag's name. */
export class TagRegistry {
  private readonly byName: ReadonlyMap<string, RegisteredTag>;

  constructor(data: TagRegistryData) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const entries = Object.entries(data.tags ?? {});
    if (entries.length === 0) throw new Error('tag registry: no tags defined');
    this.byName = new Map(
      entries.map(([name, def]) => {
        if (!TAG_PATTERN.test(name)) throw new Error(`tag registry: tag name '${name}' does not match ${TAG_PATTERN}`);
        if (!BACKENDS.includes(def.backend)) {
          throw new Error(`tag registry: tag '${name}' has unknown backend '${def.backend}' (expected ${BACKENDS.join(' or ')})`);
        }
        if (!Number.isInteger(def.maxValueBytes) || def.maxValueBytes <= 0) {
          throw new Error(`tag registry: tag '${name}' needs a positive integer maxValueBytes`);
        }
        if (def.historyDepth !== undefined && (!Number.isInteger(def.historyDepth) || def.historyDepth < 0)) {
          throw new Error(`tag registry: tag '${name}' has a bad historyDepth`);
        }
        let validate: ValidateFunction | undefined;
        try {
          validate = def.schema ? ajv.compile(def.schema) : undefined;
        } catch (e) {
          throw new Error(`tag registry: tag '${name}' has an invalid JSON schema: ${(e as Error).message}`, { cause: e });
        }
        return [name, { ...def, name, validate }];
      }),
    );
  }

  /** The registry shipped in `registry/tags.json`. */
  static default(): TagRegistry {
    return new TagRegistry(registryData as TagRegistryData);
  }

  /** The tag for a key or prefix; {@link UnknownTagError} for a tag nobody registered. */
  resolve(keyOrPrefix: ConfigKey | KeyPrefix | string): RegisteredTag {
    const tag = typeof keyOrPrefix === 'string' ? keyOrPrefix : keyOrPrefix.tag;
    const found = this.byName.get(tag);
    if (!found) {
      throw new UnknownTagError(`unknown tag '${tag}': registered tags are ${[...this.byName.keys()].join(', ')}`);
    }
    return found;
  }

  /** All tags in a stable order (the order of the registry file). */
  all(): readonly RegisteredTag[] {
    return [...this.byName.values()];
  }

  tagsFor(backend: BackendKind): readonly RegisteredTag[] {
    return this.all().filter((t) => t.backend === backend);
  }
}
