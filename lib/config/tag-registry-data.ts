/**
 * The tag registry (registry/tags.json) as the infrastructure reads it: plain data, no runtime
 * code. What a stack grants is derived from here, so adding a tag with a new backend or a secret
 * flag changes the IAM policies with no change to lib/.
 */
import registryJson from '../../registry/tags.json';

export type StoreBackend = 'dynamodb' | 'ssm';

/** The fields of a tag that decide infrastructure; the runtime reads the rest. */
export interface TagInfraDefinition {
  readonly backend: StoreBackend;
  readonly secret: boolean;
}

export interface TagRegistryDocument {
  readonly tags: Readonly<Record<string, TagInfraDefinition>>;
}

/** What the registry needs from the stores, across all its tags. */
export interface StoreNeeds {
  /** Tags routed to DynamoDB, in registry order (the Pipe filter admits exactly these). */
  readonly dynamodbTags: readonly string[];
  /** Tags routed to Parameter Store. */
  readonly ssmTags: readonly string[];
  /** Some Parameter Store tag is secret: SecureString under the stage's KMS key. */
  readonly secretParameters: boolean;
  /** Some DynamoDB tag is secret (the table's own KMS key covers it; listed for completeness). */
  readonly secretItems: boolean;
}

/** Same grammar as core/key.ts TAG_PATTERN (a test keeps them equal). */
export const TAG_NAME = /^[a-z][a-z0-9]{0,31}$/;
const BACKENDS: readonly StoreBackend[] = ['dynamodb', 'ssm'];

/** The shipped registry. */
export const DEFAULT_TAG_REGISTRY = registryJson as unknown as TagRegistryDocument;

/** Checks the fields infrastructure depends on; a bad entry fails synth with the tag's name. */
export function storeNeeds(registry: TagRegistryDocument): StoreNeeds {
  const entries = Object.entries(registry?.tags ?? {});
  if (entries.length === 0) throw new Error('tag registry: no tags defined');
  for (const [name, tag] of entries) {
    if (!TAG_NAME.test(name)) throw new Error(`tag registry: tag name '${name}' must match ${TAG_NAME}`);
    if (!BACKENDS.includes(tag.backend)) {
      throw new Error(`tag registry: tag '${name}' has unknown backend '${String(tag.backend)}' (expected ${BACKENDS.join(' or ')})`);
    }
    if (typeof tag.secret !== 'boolean') throw new Error(`tag registry: tag '${name}' needs a boolean 'secret'`);
  }
  const named = (backend: StoreBackend) => entries.filter(([, t]) => t.backend === backend).map(([n]) => n);
  return {
    dynamodbTags: named('dynamodb'),
    ssmTags: named('ssm'),
    secretParameters: entries.some(([, t]) => t.backend === 'ssm' && t.secret),
    secretItems: entries.some(([, t]) => t.backend === 'dynamodb' && t.secret),
  };
}
