import patternData from '../../registry/event-patterns.json';
import { eventPatternVariables, resolveChangeEventPatterns } from '../../core/event-patterns';
import { TagRegistry, type TagRegistryData } from '../../core/tag-registry';
import { compilePattern } from '../../local/events/pattern-matcher';
import { fixture, parameterEvent, patterns, pipeEvent, TENANTS_PATH } from './support/change-events';

const dynamodbRule = compilePattern(patterns.rules.dynamodbChange.pattern);
const parameterRule = compilePattern(patterns.rules.parameterStoreChange.pattern);
const pipeFilters = patterns.dynamodbPipe.filterPatterns.map((p) => compilePattern(p));
const passesPipe = (record: unknown) => pipeFilters.some((f) => f(record));

/** The part of a rule that does not depend on our names (source, detail-type, kinds of change). */
function withoutNames(pattern: Record<string, unknown>, dropFromDetail: string[]): Record<string, unknown> {
  const detail = { ...(pattern.detail as Record<string, unknown>) };
  for (const field of dropFromDetail) delete detail[field];
  return { ...pattern, detail };
}

describe('event patterns as data (registry/event-patterns.json)', () => {
  it('fills the placeholders for a stage: the tenants path and one Pipe prefix per DynamoDB tag', () => {
    expect(patterns.rules.parameterStoreChange.pattern).toEqual({
      source: ['aws.ssm'],
      'detail-type': ['Parameter Store Change'],
      detail: { name: [{ prefix: TENANTS_PATH }], operation: ['Create', 'Update', 'Delete'] },
    });
    expect(patterns.dynamodbPipe.filterPatterns).toEqual([
      { dynamodb: { Keys: { configKey: { S: [{ prefix: 'tenantconfig:' }, { prefix: 'flags:' }] } } } },
      // Tenant registry rows: a tenant's attributes refresh its @attributes entry.
      { dynamodb: { Keys: { tenantId: { S: ['_registry'] } } } },
    ]);
    expect(patterns.rules.dynamodbChange.eventBus).toBe('config-changes');
    expect(patterns.rules.parameterStoreChange.eventBus).toBe('default');
  });

  it('the bus rule expects exactly the Source and DetailType the Pipe sets', () => {
    const rule = patterns.rules.dynamodbChange.pattern as { source: string[]; 'detail-type': string[] };
    expect(rule.source).toEqual([patterns.dynamodbPipe.source]);
    expect(rule['detail-type']).toEqual([patterns.dynamodbPipe.detailType]);
  });

  it('a tag added to the registry widens the Pipe filter with no change to the patterns file', () => {
    const data = TagRegistry.default()
      .all()
      .reduce<Record<string, unknown>>((acc, t) => ({ ...acc, [t.name]: t }), {});
    const registry = new TagRegistry({ tags: { ...data, limits: { backend: 'dynamodb', maxValueBytes: 100, secret: false } } } as TagRegistryData);
    const resolved = resolveChangeEventPatterns(eventPatternVariables({ ssmTenantsPath: TENANTS_PATH, registry }));
    const filter = compilePattern(resolved.dynamodbPipe.filterPatterns[0]);
    expect(filter({ dynamodb: { Keys: { configKey: { S: 'limits:rate' } } } })).toBe(true);
  });

  it('the Pipe filter uses only what Pipes filters support: no anything-but prefix, no metadata fields', () => {
    const text = JSON.stringify(patterns.dynamodbPipe.filterPatterns);
    expect(text).not.toContain('anything-but');
    for (const metadata of ['eventName', 'eventSource', 'eventSourceARN', 'awsRegion', 'eventID', 'eventVersion']) {
      expect(text).not.toContain(`"${metadata}"`);
    }
  });

  it('refuses an unknown placeholder, naming it', () => {
    const data = JSON.parse(JSON.stringify(patternData)) as { rules: { parameterStoreChange: { pattern: { detail: { name: unknown } } } } };
    data.rules.parameterStoreChange.pattern.detail.name = [{ prefix: '${ssmRoot}/' }];
    expect(() => resolveChangeEventPatterns({ ssmTenantsPath: TENANTS_PATH, dynamodbTag: ['tenantconfig'] }, data)).toThrow(/ssmRoot/);
  });

  it('refuses a tenants path that is not /<root>/<stage>/tenants/', () => {
    expect(() => eventPatternVariables({ ssmTenantsPath: '/tenant-config/test', registry: TagRegistry.default() })).toThrow(/tenants/);
  });
});

describe('Parameter Store rule against AWS documentation samples', () => {
  const samples = ['create', 'update', 'delete'].map((op) => fixture(`aws-docs/ssm-parameter-store-change-${op}.json`));
  const shared = compilePattern(withoutNames(patterns.rules.parameterStoreChange.pattern, ['name']));

  it.each(samples.map((s) => [(s.detail as { operation: string }).operation, s]))(
    'the documented %s event matches everything but our hierarchy, and is rejected for its name',
    (_op, sample) => {
      expect(shared(sample)).toBe(true);
      expect(parameterRule(sample)).toBe(false);
    },
  );

  it.each(['Create', 'Update', 'Delete'])('a %s of a tenant parameter of this stage matches', (operation) => {
    expect(parameterRule(parameterEvent({ operation }))).toBe(true);
  });

  it('the project-shaped fixture matches', () => {
    expect(parameterRule(fixture('ssm-parameter-store-change-tenant-update.json'))).toBe(true);
  });

  it.each([
    ['another stage', { operation: 'Update', name: '/tenant-config/prod/tenants/acme/paramconfig/db/pool/max' }],
    ['another root', { operation: 'Update', name: '/other-app/test/tenants/acme/paramconfig/x' }],
    ['the stage root outside tenants', { operation: 'Update', name: '/tenant-config/test/settings/x' }],
    ['a prefix-alike stage name', { operation: 'Update', name: '/tenant-config/test2/tenants/acme/paramconfig/x' }],
    ['a label move', { operation: 'LabelParameterVersion' }],
    ['a lower-case operation', { operation: 'update' }],
  ])('rejects %s', (_what, spec) => {
    expect(parameterRule(parameterEvent(spec))).toBe(false);
  });

  it('rejects a change event of another service or type', () => {
    const event = parameterEvent({ operation: 'Update' });
    expect(parameterRule({ ...event, source: 'aws.secretsmanager' })).toBe(false);
    expect(parameterRule({ ...event, 'detail-type': 'Parameter Store Policy Action' })).toBe(false);
  });
});

describe('DynamoDB stream rule and Pipe filter', () => {
  const docRecords = fixture<Array<Record<string, unknown>>>('aws-docs/dynamodb-stream-records-pipes-source.json');
  const tutorialRecord = fixture('aws-docs/dynamodb-stream-record-streams-tutorial.json');
  const asPipeEvent = (record: Record<string, unknown>) => ({
    version: '0',
    id: 'e',
    'detail-type': patterns.dynamodbPipe.detailType,
    source: patterns.dynamodbPipe.source,
    account: '123456789012',
    time: '2026-11-22T10:15:31Z',
    region: 'us-east-1',
    resources: [],
    detail: record,
  });
  const shared = compilePattern(withoutNames(patterns.rules.dynamodbChange.pattern, ['dynamodb']));

  it.each([...docRecords, tutorialRecord].map((r) => [r.eventName as string, r]))(
    'a documented %s record, wrapped by the Pipe, matches all but our table keys, and is rejected for them',
    (_name, record) => {
      expect(shared(asPipeEvent(record))).toBe(true);
      expect(dynamodbRule(asPipeEvent(record))).toBe(false);
      expect(passesPipe(record)).toBe(false);
    },
  );

  it.each([
    ['INSERT', pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 'gold' } })],
    ['MODIFY', pipeEvent({ eventName: 'MODIFY', newRow: { version: 2, value: 'platinum' }, oldRow: { version: 1, value: 'gold' } })],
    ['REMOVE', pipeEvent({ eventName: 'REMOVE', oldRow: { version: 2, value: 'platinum' } })],
    ['fixture MODIFY', fixture('pipe-dynamodb-record-modify.json')],
  ])('a %s record of a config item passes the Pipe filter and matches the rule', (_name, event) => {
    expect(passesPipe((event as { detail: unknown }).detail)).toBe(true);
    expect(dynamodbRule(event)).toBe(true);
  });

  it('a write-lease row never leaves the stream, and the bus rule fences it out too', () => {
    const lease = pipeEvent({ eventName: 'INSERT', key: '#lease#paramconfig:db/pool/max', newRow: { version: 1, value: 'holder' } });
    expect(passesPipe(lease.detail)).toBe(false);
    expect(dynamodbRule(lease)).toBe(false);
  });

  it('rows of tags served by Parameter Store or of unknown tags do not pass the Pipe', () => {
    expect(passesPipe(pipeEvent({ eventName: 'INSERT', key: 'paramconfig:x', newRow: { version: 1, value: 1 } }).detail)).toBe(false);
    expect(passesPipe(pipeEvent({ eventName: 'INSERT', key: 'nosuchtag:x', newRow: { version: 1, value: 1 } }).detail)).toBe(false);
    expect(passesPipe(pipeEvent({ eventName: 'INSERT', key: 'tenantconfigx:x', newRow: { version: 1, value: 1 } }).detail)).toBe(false);
  });

  it.each([
    ['the Pipe default source', { source: 'Pipe tenant-config-test-pipe' }],
    ['the Pipe default detail-type', { 'detail-type': 'Event from aws:dynamodb' }],
    ['another service', { source: 'aws.ssm' }],
  ])('rejects an event with %s', (_what, change) => {
    expect(dynamodbRule({ ...pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 1 } }), ...change })).toBe(false);
  });

  it('rejects a record that is not from DynamoDB or has another eventName', () => {
    const event = pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 1 } }) as { detail: Record<string, unknown> };
    expect(dynamodbRule({ ...event, detail: { ...event.detail, eventSource: 'aws:kinesis' } })).toBe(false);
    expect(dynamodbRule({ ...event, detail: { ...event.detail, eventName: 'TTL' } })).toBe(false);
  });
});
