/**
 * Configuration layers (docs/design.md §8.2): a tenant's own value overrides the defaults of
 * the segments it is in, which override the platform default. This module is the one place
 * that knows how layers are named, where they are stored and which one wins; the API, the
 * fanout and the SDK all resolve with {@link resolveEffective}.
 *
 * Storage: a layer is kept in the backend of its key's tag like a tenant's keys, under an owner
 * id that no tenant id can be (tenant ids start with a letter or digit, owner ids of layers with
 * `_`): `_platform`, `_segment.plan.gold`. So a layer change is one store write, one change event,
 * one cache refresh and one change-log entry, through the same path as a tenant's write.
 */
import { InvalidRequestError } from './errors';
import type { ConfigItem } from './item';
import { servedItem } from './rollout-value';
import { SEGMENT_VALUE_PATTERN, ATTRIBUTE_NAME_PATTERN, type Segment, type TenantAttributes, type TenantSchema } from './tenant-attributes';
import type { TenantId } from './tenant';

export type Layer = { readonly kind: 'platform' } | ({ readonly kind: 'segment' } & Segment);

/** Where an effective value came from: `tenant`, `segment:plan=gold` or `platform`. */
export type Source = 'tenant' | 'platform' | `segment:${string}=${string}`;

export const PLATFORM: Layer = Object.freeze({ kind: 'platform' });

export const segmentLayer = (segment: Segment): Layer => ({ kind: 'segment', attribute: segment.attribute, value: segment.value });

/** `platform` or `segment:plan=gold`: the name used in sources, rollouts and logs. */
export function layerName(layer: Layer): Source {
  return layer.kind === 'platform' ? 'platform' : `segment:${layer.attribute}=${layer.value}`;
}

const OWNER_PREFIX = '_';
const PLATFORM_OWNER = '_platform';
const SEGMENT_OWNER = /^_segment\.([a-z][A-Za-z0-9_]{0,31})\.([A-Za-z0-9_-]{1,64})$/;

/**
 * The owner id a layer's keys are stored under, in place of a tenant id. Branded as a TenantId
 * because the backends key by owner; it never passes parseTenantId, so no token or route names it.
 */
export function layerOwner(layer: Layer): TenantId {
  return (layer.kind === 'platform' ? PLATFORM_OWNER : `_segment.${layer.attribute}.${layer.value}`) as TenantId;
}

/** Whether an owner id (a change event's "tenant") is a layer's rather than a tenant's. */
export const isLayerOwner = (owner: string): boolean => owner.startsWith(OWNER_PREFIX);

/** The layer an owner id stands for; undefined for a tenant id or anything malformed. */
export function layerOfOwner(owner: string): Layer | undefined {
  if (owner === PLATFORM_OWNER) return PLATFORM;
  const m = SEGMENT_OWNER.exec(owner);
  return m ? { kind: 'segment', attribute: m[1], value: m[2] } : undefined;
}

/** Parses `plan=gold` (a route's segment) against the schema; 400 saying what is wrong otherwise. */
export function parseSegment(raw: string, schema: TenantSchema): Segment {
  const eq = raw.indexOf('=');
  if (eq < 0) throw new InvalidRequestError(`segment '${raw.slice(0, 64)}' is malformed: expected '<attribute>=<value>', e.g. 'plan=gold'`);
  const attribute = raw.slice(0, eq);
  const value = raw.slice(eq + 1);
  if (!ATTRIBUTE_NAME_PATTERN.test(attribute) || !SEGMENT_VALUE_PATTERN.test(value)) {
    throw new InvalidRequestError(`segment '${raw.slice(0, 64)}' is malformed: expected '<attribute>=<value>' of letters, digits, '_' and '-'`);
  }
  return schema.checkSegment({ attribute, value });
}

/** Parses `platform` or `segment:<attribute>=<value>` (rollouts, `?layer=`). */
export function parseLayer(raw: string, schema: TenantSchema): Layer {
  if (raw === 'platform') return PLATFORM;
  if (raw.startsWith('segment:')) return segmentLayer(parseSegment(raw.slice('segment:'.length), schema));
  throw new InvalidRequestError(`layer '${raw.slice(0, 64)}' is malformed: expected 'platform' or 'segment:<attribute>=<value>'`);
}

/**
 * The layers under a tenant's own values, highest precedence first: its segments in the
 * schema's attribute order (the first matching segment that holds the key wins), then the
 * platform default.
 */
export function defaultLayersOf(attributes: TenantAttributes, schema: TenantSchema): Layer[] {
  return [...schema.segmentsOf(attributes).map(segmentLayer), PLATFORM];
}

/** An item as served: the winning layer's item and where it came from. */
export interface EffectiveItem extends ConfigItem {
  readonly source: Source;
}

/**
 * The resolution rule, once: the tenant's own item, else the first layer (in the order given,
 * see {@link defaultLayersOf}) that holds the key for this tenant, else nothing. A layer item
 * under a rollout holds the key for the tenant as its bucket says (core/rollout-value.ts).
 * `layerItem` looks a key up in one layer; it is called only until a winner is found.
 */
export function resolveEffective(
  own: ConfigItem | undefined,
  layers: readonly Layer[],
  layerItem: (layer: Layer) => ConfigItem | undefined,
  tenant: string,
): EffectiveItem | undefined {
  if (own) return { ...own, source: 'tenant' };
  for (const layer of layers) {
    const held = layerItem(layer);
    const item = held && servedItem(held, tenant);
    if (item) return { ...item, source: layerName(layer) };
  }
  return undefined;
}

/** The rank of a layer for a tenant: 0 for its own values, then 1.. in {@link defaultLayersOf} order; undefined when the layer does not apply to it. */
export function rankOf(source: Source, layers: readonly Layer[]): number | undefined {
  if (source === 'tenant') return 0;
  const i = layers.findIndex((l) => layerName(l) === source);
  return i < 0 ? undefined : i + 1;
}
