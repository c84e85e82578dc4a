import { randomUUID } from 'node:crypto';

/**
 * DynamoDB Streams records as GetRecords returns them (and as Lambda and Pipes pass
 * them on, plus `eventSourceARN`), built from an item's image before and after a write.
 */

/** One attribute in DynamoDB's wire JSON: `{ "S": "..." }`, `{ "N": "12" }`, `{ "B": "<base64>" }`, `{ "M": {...} }`, ... */
export type AttributeValue = Readonly<Record<string, unknown>>;
/** An item in DynamoDB's wire JSON, exactly as the service sends it (binary stays base64). */
export type Image = Readonly<Record<string, AttributeValue>>;

export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    /** Epoch seconds, whole, as AWS gives them. */
    readonly ApproximateCreationDateTime: number;
    readonly Keys: Image;
    readonly NewImage?: Image;
    readonly OldImage?: Image;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: 'NEW_AND_OLD_IMAGES';
  };
}

/** Increasing decimal sequence numbers (21 digits), still increasing after a restart. */
export class SequenceNumbers {
  private next: bigint;

  constructor(startMs: number = Date.now()) {
    this.next = BigInt(startMs) * 100_000_000n;
  }

  take(): string {
    this.next += 1n;
    return this.next.toString();
  }
}

/**
 * The record for one write, or undefined when the write changed nothing: DynamoDB
 * Streams writes no record for a PutItem or UpdateItem that leaves the item as it was.
 */
export function recordForChange(options: {
  keyNames: readonly string[];
  before: Image | undefined;
  after: Image | undefined;
  region: string;
  sequenceNumber: () => string;
  nowMs?: number;
}): StreamRecord | undefined {
  const { before, after } = options;
  if (!before && !after) return undefined;
  if (before && after && sameImage(before, after)) return undefined;
  const eventName = !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY';
  const source = (after ?? before) as Image;
  const keys: Record<string, AttributeValue> = {};
  for (const name of options.keyNames) if (source[name] !== undefined) keys[name] = source[name];
  return {
    eventID: randomUUID().replace(/-/g, ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: options.region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor((options.nowMs ?? Date.now()) / 1000),
      Keys: keys,
      ...(after ? { NewImage: after } : {}),
      ...(before ? { OldImage: before } : {}),
      SequenceNumber: options.sequenceNumber(),
      SizeBytes: imageSize(keys) + (after ? imageSize(after) : 0) + (before ? imageSize(before) : 0),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** Equal items: maps compared by key, sets as sets (DynamoDB keeps no order in either). */
export function sameImage(a: Image, b: Image): boolean {
  return canonicalAttribute({ M: a }) === canonicalAttribute({ M: b });
}

function canonicalAttribute(v: AttributeValue): string {
  const av = v as Record<string, unknown>;
  const [type] = Object.keys(av);
  const inner = av[type];
  switch (type) {
    case 'M': {
      const entries = Object.entries(inner as Image).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      return `M{${entries.map(([k, e]) => `${JSON.stringify(k)}:${canonicalAttribute(e)}`).join(',')}}`;
    }
    case 'L':
      return `L[${(inner as AttributeValue[]).map(canonicalAttribute).join(',')}]`;
    case 'SS':
    case 'NS':
      return `${type}${JSON.stringify([...(inner as string[])].sort())}`;
    case 'BS':
      return `BS${JSON.stringify([...(inner as string[])].sort())}`;
    default:
      return `${type}${JSON.stringify(inner)}`;
  }
}

/**
 * Approximate item size by DynamoDB's rules: attribute names and string/binary values
 * by their bytes, numbers by about one byte per two digits plus one, one byte for a
 * boolean or null, three bytes plus one per element for lists and maps.
 */
export function imageSize(image: Image): number {
  let size = 0;
  for (const [name, value] of Object.entries(image)) size += Buffer.byteLength(name, 'utf8') + attributeSize(value);
  return size;
}

function attributeSize(v: AttributeValue): number {
  const av = v as Record<string, unknown>;
  const [type] = Object.keys(av);
  const inner = av[type];
  switch (type) {
    case 'S':
      return Buffer.byteLength(inner as string, 'utf8');
    case 'N':
      return numberSize(inner as string);
    case 'B':
      return Buffer.from(inner as string, 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
    case 'NS':
      return (inner as string[]).reduce((n, s) => n + numberSize(s), 0);
    case 'BS':
      return (inner as string[]).reduce((n, b) => n + Buffer.from(b, 'base64').length, 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((n, e) => n + 1 + attributeSize(e), 0);
    case 'M':
      return 3 + Object.entries(inner as Image).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k, 'utf8') + attributeSize(e), 0);
    default:
      return 0;
  }
}

function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
