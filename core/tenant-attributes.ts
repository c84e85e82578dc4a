/**
 * Tenant attributes (`plan`, `region`, ...) and the segments they put a tenant in, checked
 * against the schema in registry/tenants.json. Segments are defined on enumerated attributes
 * only, so the set of segments is known from the schema alone: a fanout process can load every
 * segment's defaults at start, and a segment URL naming an unknown value is a 400, not a silent
 * empty layer.
 */
import schemaData from '../registry/tenants.json';
import { InvalidRequestError } from './errors';

export const ATTRIBUTE_NAME_PATTERN = /^[a-z][A-Za-z0-9_]{0,31}$/;
/** Segment values are path segments in Parameter Store and parts of URLs: kept to this alphabet. */
export const SEGMENT_VALUE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export type TenantAttributes = Readonly<Record<string, string>>;

interface AttributeDefinition {
  readonly description?: string;
  readonly values?: readonly string[];
  readonly pattern?: string;
  readonly segment?: boolean;
}

export interface TenantSchemaData {
  readonly attributes: Readonly<Record<string, AttributeDefinition>>;
  readonly additionalAttributes?: { readonly pattern: string } | false;
  readonly maxAttributes?: number;
}

/** A segment: every tenant whose `attribute` is `value`. */
export interface Segment {
  readonly attribute: string;
  readonly value: string;
}

export class TenantSchema {
  private readonly definitions: ReadonlyMap<string, AttributeDefinition & { readonly regex?: RegExp }>;
  private readonly additional?: RegExp;
  readonly maxAttributes: number;
  /** Segment attributes in precedence order (the order of the schema file). */
  readonly segmentAttributes: readonly string[];

  constructor(data: TenantSchemaData) {
    const entries = Object.entries(data.attributes ?? {});
    this.definitions = new Map(
      entries.map(([name, def]) => {
        if (!ATTRIBUTE_NAME_PATTERN.test(name)) throw new Error(`tenant schema: attribute name '${name}' does not match ${ATTRIBUTE_NAME_PATTERN}`);
        if (def.segment && !def.values?.length) throw new Error(`tenant schema: segment attribute '${name}' must list its values`);
        for (const v of def.values ?? []) {
          if (!SEGMENT_VALUE_PATTERN.test(v)) throw new Error(`tenant schema: value '${v}' of '${name}' does not match ${SEGMENT_VALUE_PATTERN}`);
        }
        return [name, { ...def, regex: def.pattern ? new RegExp(def.pattern, 'u') : undefined }];
      }),
    );
    this.additional = data.additionalAttributes ? new RegExp(data.additionalAttributes.pattern, 'u') : undefined;
    this.maxAttributes = data.maxAttributes ?? 32;
    this.segmentAttributes = entries.filter(([, d]) => d.segment).map(([n]) => n);
  }

  static default(): TenantSchema {
    return new TenantSchema(schemaData as TenantSchemaData);
  }

  /** Every segment the schema allows, in precedence order then value order. */
  allSegments(): Segment[] {
    return this.segmentAttributes.flatMap((attribute) => (this.definitions.get(attribute)?.values ?? []).map((value) => ({ attribute, value })));
  }

  /** The segments a tenant is in, in precedence order (first wins). */
  segmentsOf(attributes: TenantAttributes): Segment[] {
    return this.segmentAttributes.filter((a) => attributes[a] !== undefined).map((attribute) => ({ attribute, value: attributes[attribute] }));
  }

  /** Checks `attribute=value` names a segment of the schema; throws InvalidRequestError saying why not. */
  checkSegment(segment: Segment): Segment {
    const def = this.definitions.get(segment.attribute);
    if (!def?.segment) {
      throw new InvalidRequestError(
        `'${printable(segment.attribute)}' is not a segment attribute: segments are ${this.segmentAttributes.map((a) => `${a}=<value>`).join(', ') || 'not defined'}`,
      );
    }
    if (!def.values!.includes(segment.value)) {
      throw new InvalidRequestError(`'${printable(segment.value)}' is not a value of '${segment.attribute}': expected one of ${def.values!.join(', ')}`);
    }
    return segment;
  }

  /** Validates a request body's `attributes`; returns them as a plain, frozen record. */
  parseAttributes(raw: unknown): TenantAttributes {
    if (raw === undefined) return Object.freeze({});
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidRequestError('attributes must be an object of string values');
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length > this.maxAttributes) throw new InvalidRequestError(`a tenant has at most ${this.maxAttributes} attributes, got ${entries.length}`);
    const out: Record<string, string> = {};
    for (const [name, value] of entries) {
      if (!ATTRIBUTE_NAME_PATTERN.test(name)) {
        throw new InvalidRequestError(`attribute name '${printable(name)}' is malformed: expected a lowercase letter then up to 31 letters, digits or '_'`);
      }
      if (typeof value !== 'string') throw new InvalidRequestError(`attribute '${name}' must be a string`);
      const def = this.definitions.get(name);
      if (def) {
        if (def.values && !def.values.includes(value)) {
          throw new InvalidRequestError(`attribute '${name}' must be one of ${def.values.join(', ')}, got '${printable(value)}'`);
        }
        if (def.regex && !def.regex.test(value)) throw new InvalidRequestError(`attribute '${name}' does not match ${def.pattern}`);
      } else if (!this.additional) {
        throw new InvalidRequestError(`unknown attribute '${name}': known attributes are ${[...this.definitions.keys()].join(', ')}`);
      } else if (!this.additional.test(value)) {
        throw new InvalidRequestError(`attribute '${name}' does not match ${this.additional.source}`);
      }
      out[name] = value;
    }
    return Object.freeze(out);
  }
}

function printable(s: string): string {
  const cut = s.length > 64 ? `${s.slice(0, 64)}…` : s;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
