/** Builders of change events in the real AWS shapes, for this project's table and hierarchy. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { changeEventContext, parameterLayout } from '../../../lambda/cache-refresh/wiring';
import { TagRegistry } from '../../../core/tag-registry';

export const SSM_ROOT = 'tenant-config';
export const STAGE = 'test';
export const REGION = 'us-east-1';
export const TENANTS_PATH = `/${SSM_ROOT}/${STAGE}/tenants/`;

export const layout = parameterLayout(SSM_ROOT, STAGE);
export const { context: eventContext, patterns } = changeEventContext({ registry: TagRegistry.default(), layout });

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'events');

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export interface RowSpec {
  readonly tenant?: string;
  readonly key?: string;
  readonly version: number;
  /** Absent (or `deleted`) makes a tombstone. */
  readonly value?: unknown;
  readonly deleted?: boolean;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/** A table row as the DynamoDB backend writes it (adapters/dynamodb/item-codec.ts), in DynamoDB JSON. */
export function rowImage(spec: RowSpec): Record<string, unknown> {
  const deleted = spec.deleted ?? spec.value === undefined;
  return marshall(
    {
      tenantId: spec.tenant ?? 'acme',
      configKey: spec.key ?? 'tenantconfig:plan',
      version: spec.version,
      deleted,
      valueJson: deleted ? undefined : JSON.stringify(spec.value),
      updatedAt: spec.updatedAt ?? new Date(1_795_342_531_000 + spec.version * 1000).toISOString(),
      updatedBy: spec.updatedBy ?? 'admin-1',
      history: [],
    },
    { removeUndefinedValues: true },
  );
}

let sequence = 1000n;

/** A stream record (NEW_AND_OLD_IMAGES) wrapped as the Pipe puts it on the config-changes bus. */
export function pipeEvent(options: {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  newRow?: RowSpec;
  oldRow?: RowSpec;
  tenant?: string;
  key?: string;
  approximateSeconds?: number;
}): Record<string, unknown> {
  const tenant = options.tenant ?? options.newRow?.tenant ?? options.oldRow?.tenant ?? 'acme';
  const key = options.key ?? options.newRow?.key ?? options.oldRow?.key ?? 'tenantconfig:plan';
  const newImage = options.newRow ? rowImage({ tenant, key, ...options.newRow }) : undefined;
  const oldImage = options.oldRow ? rowImage({ tenant, key, ...options.oldRow }) : undefined;
  const version = options.newRow?.version ?? options.oldRow?.version ?? 0;
  sequence += 1n;
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    'detail-type': patterns.dynamodbPipe.detailType,
    source: patterns.dynamodbPipe.source,
    account: '123456789012',
    time: '2026-11-22T10:15:31Z',
    region: REGION,
    resources: [],
    detail: {
      eventID: `record-${sequence}`,
      eventName: options.eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: options.approximateSeconds ?? 1_795_342_531 + version,
        Keys: { tenantId: { S: tenant }, configKey: { S: key } },
        ...(newImage ? { NewImage: newImage } : {}),
        ...(oldImage ? { OldImage: oldImage } : {}),
        SequenceNumber: String(179534253141200000000n + sequence),
        SizeBytes: 200,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: `arn:aws:dynamodb:${REGION}:123456789012:table/tenant-config-test/stream/2026-11-01T00:00:00.000`,
    },
  };
}

/** The event a write of version `version` produces (INSERT for the first, MODIFY after). */
export function writeEvent(version: number, value: unknown, key = 'tenantconfig:plan', tenant = 'acme'): Record<string, unknown> {
  return version === 1
    ? pipeEvent({ eventName: 'INSERT', tenant, key, newRow: { version, value } })
    : pipeEvent({ eventName: 'MODIFY', tenant, key, newRow: { version, value }, oldRow: { version: version - 1, value: `v${version - 1}` } });
}

/** A Parameter Store Change event as AWS publishes it, for a name in this stage's hierarchy (or any name). */
export function parameterEvent(options: {
  operation: string;
  name?: string;
  tenant?: string;
  key?: string;
  type?: string;
  time?: string;
}): Record<string, unknown> {
  const tenant = options.tenant ?? 'acme';
  const key = options.key ?? 'paramconfig:db/pool/max';
  const [tag, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  const parameterName = options.name ?? `${TENANTS_PATH}${tenant}/${tag}/${name}`;
  return {
    version: '0',
    id: '5b8f0b3e-0c5c-4a11-8a9e-3d0c7f6e2b41',
    'detail-type': 'Parameter Store Change',
    source: 'aws.ssm',
    account: '123456789012',
    time: options.time ?? '2026-11-22T10:16:02Z',
    region: REGION,
    resources: [`arn:aws:ssm:${REGION}:123456789012:parameter${parameterName.startsWith('/') ? '' : '/'}${parameterName}`],
    detail: { operation: options.operation, name: parameterName, type: options.type ?? 'String' },
  };
}
