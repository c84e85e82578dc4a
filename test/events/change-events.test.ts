import fc from 'fast-check';
import { parseChangeEvent, type ParsedChangeEvent } from '../../core/change-events';
import { eventContext, fixture, parameterEvent, pipeEvent, rowImage, TENANTS_PATH } from './support/change-events';

const parse = (event: unknown): ParsedChangeEvent => parseChangeEvent(event, eventContext);

describe('parsing DynamoDB stream records delivered by the Pipe', () => {
  it('reads the fixture MODIFY: tenant, key, version, value text, writer, and the write time from updatedAt', () => {
    const parsed = parse(fixture('pipe-dynamodb-record-modify.json'));
    expect(parsed).toEqual({
      kind: 'table-change',
      tenant: 'acme',
      key: expect.objectContaining({ raw: 'tenantconfig:plan', tag: 'tenantconfig', name: 'plan' }),
      version: 3,
      deleted: false,
      valueJson: '{"tier":"gold","seats":50}',
      updatedAt: '2026-11-22T10:15:31.412Z',
      updatedBy: 'admin-1',
      modifiedAtMs: Date.parse('2026-11-22T10:15:31.412Z'),
      eventName: 'MODIFY',
      sequenceNumber: '179534253141200000007',
    });
  });

  it('an INSERT is the first version of a value', () => {
    const parsed = parse(pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: { limit: 5 } } }));
    expect(parsed).toMatchObject({ kind: 'table-change', version: 1, deleted: false, valueJson: '{"limit":5}', eventName: 'INSERT' });
  });

  it('a MODIFY to a tombstone (the API delete) is a delete at the tombstone version, without a value', () => {
    const parsed = parse(pipeEvent({ eventName: 'MODIFY', newRow: { version: 4, deleted: true }, oldRow: { version: 3, value: 'x' } }));
    expect(parsed).toMatchObject({ kind: 'table-change', version: 4, deleted: true, eventName: 'MODIFY' });
    expect((parsed as { valueJson?: string }).valueJson).toBeUndefined();
  });

  it('a REMOVE (row deleted by hand) is a delete at the OldImage version', () => {
    const parsed = parse(pipeEvent({ eventName: 'REMOVE', oldRow: { version: 7, value: 'x' } }));
    expect(parsed).toMatchObject({ kind: 'table-change', version: 7, deleted: true, eventName: 'REMOVE' });
    expect((parsed as { valueJson?: string }).valueJson).toBeUndefined();
  });

  it('a row written by hand with a native value and no version reads as version 0 with that value', () => {
    const event = pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 'x' } }) as { detail: { dynamodb: { NewImage: Record<string, unknown> } } };
    event.detail.dynamodb.NewImage = { tenantId: { S: 'acme' }, configKey: { S: 'tenantconfig:plan' }, value: { M: { tier: { S: 'gold' } } } };
    expect(parse(event)).toMatchObject({ kind: 'table-change', version: 0, deleted: false, valueJson: '{"tier":"gold"}', updatedBy: 'unknown' });
  });

  it('uses the stream time when the row claims a write time far from it', () => {
    const event = pipeEvent({
      eventName: 'INSERT',
      newRow: { version: 1, value: 1, updatedAt: '2001-01-01T00:00:00.000Z' },
      approximateSeconds: 1_795_342_531,
    });
    expect(parse(event)).toMatchObject({ modifiedAtMs: 1_795_342_531_000 });
  });

  it.each([
    ['a write lease row', pipeEvent({ eventName: 'INSERT', key: '#lease#paramconfig:a', newRow: { version: 1, value: 'h' } })],
    ['an unregistered tag', pipeEvent({ eventName: 'INSERT', key: 'nosuchtag:a', newRow: { version: 1, value: 1 } })],
    ['a tag served by Parameter Store', pipeEvent({ eventName: 'INSERT', key: 'paramconfig:a', newRow: { version: 1, value: 1 } })],
    ['a key outside the grammar', pipeEvent({ eventName: 'INSERT', key: 'tenantconfig:a//b', newRow: { version: 1, value: 1 } })],
    ['a tenant id we never issue', pipeEvent({ eventName: 'INSERT', tenant: 'a/b', newRow: { version: 1, value: 1 } })],
    ['another event source', { ...pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 1 } }), source: 'other.app' }],
  ])('%s is foreign', (_what, event) => {
    expect(parse(event).kind).toBe('foreign');
  });

  const broken = (mutate: (detail: Record<string, unknown>, stream: Record<string, unknown>) => void) => {
    const event = pipeEvent({ eventName: 'MODIFY', newRow: { version: 2, value: 'b' }, oldRow: { version: 1, value: 'a' } }) as {
      detail: Record<string, unknown> & { dynamodb: Record<string, unknown> };
    };
    mutate(event.detail, event.detail.dynamodb);
    return event;
  };

  it.each([
    [
      'a KEYS_ONLY record (no images)',
      broken((_d, s) => {
        delete s.NewImage;
        delete s.OldImage;
        s.StreamViewType = 'KEYS_ONLY';
      }),
    ],
    [
      'an unknown eventName',
      broken((d) => {
        d.eventName = 'UPSERT';
      }),
    ],
    [
      'Keys without the sort key',
      broken((_d, s) => {
        s.Keys = { tenantId: { S: 'acme' } };
      }),
    ],
    [
      'an image of another item than its Keys',
      broken((_d, s) => {
        s.NewImage = rowImage({ key: 'tenantconfig:other', version: 2, value: 'b' });
      }),
    ],
    [
      'a version that is not a number',
      broken((_d, s) => {
        (s.NewImage as Record<string, unknown>).version = { S: 'two' };
      }),
    ],
    [
      'a negative version',
      broken((_d, s) => {
        (s.NewImage as Record<string, unknown>).version = { N: '-1' };
      }),
    ],
    [
      'a value that is not JSON',
      broken((_d, s) => {
        (s.NewImage as Record<string, unknown>).valueJson = { S: '{not json' };
      }),
    ],
    [
      'an image that is not DynamoDB JSON',
      broken((_d, s) => {
        s.NewImage = { tenantId: 'acme', configKey: 'tenantconfig:plan' };
      }),
    ],
    [
      'no SequenceNumber',
      broken((_d, s) => {
        delete s.SequenceNumber;
      }),
    ],
    [
      'no dynamodb object',
      broken((d) => {
        delete d.dynamodb;
      }),
    ],
  ])('%s is malformed', (_what, event) => {
    expect(parse(event).kind).toBe('malformed');
  });

  it.each([[null], ['text'], [42], [[]], [{}], [{ source: 'x', 'detail-type': 'y' }], [{ source: 'x', 'detail-type': 'y', detail: 'z' }]])(
    'a non-event (%j) is malformed, never an exception',
    (event) => {
      expect(parse(event).kind).toBe('malformed');
    },
  );

  it('never throws, whatever the detail holds (property)', () => {
    const base = pipeEvent({ eventName: 'MODIFY', newRow: { version: 2, value: 'b' }, oldRow: { version: 1, value: 'a' } });
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('detail', 'dynamodb', 'NewImage', 'Keys', 'version'), (junk, where) => {
        const event = JSON.parse(JSON.stringify(base)) as { detail: Record<string, unknown> & { dynamodb: Record<string, unknown> } };
        if (where === 'detail') event.detail = junk as never;
        else if (where === 'dynamodb') event.detail.dynamodb = junk as never;
        else if (where === 'version') (event.detail.dynamodb.NewImage as Record<string, unknown>).version = junk;
        else event.detail.dynamodb[where] = junk;
        const kind = parse(event).kind;
        return ['table-change', 'foreign', 'malformed'].includes(kind);
      }),
    );
  });
});

describe('parsing Parameter Store Change events', () => {
  it('reads tenant and key back from the name through the SSM layout', () => {
    expect(parse(fixture('ssm-parameter-store-change-tenant-update.json'))).toEqual({
      kind: 'parameter-change',
      tenant: 'acme',
      key: expect.objectContaining({ raw: 'paramconfig:db/pool/max' }),
      operation: 'Update',
      parameterName: `${TENANTS_PATH}acme/paramconfig/db/pool/max`,
      modifiedAtMs: Date.parse('2026-11-22T10:16:02Z'),
    });
  });

  it.each(['Create', 'Update', 'Delete'])('%s is a change notice', (operation) => {
    expect(parse(parameterEvent({ operation, key: 'secretconfig:db/password' }))).toMatchObject({ kind: 'parameter-change', operation });
  });

  it.each([
    ['the documented sample (a name outside any tenant hierarchy)', fixture('aws-docs/ssm-parameter-store-change-update.json')],
    ['a failed create reported with an exception', fixture('aws-docs/ssm-parameter-store-change-create-failed-validation.json')],
    ['another stage', parameterEvent({ operation: 'Update', name: '/tenant-config/prod/tenants/acme/paramconfig/x' })],
    ['a label move', parameterEvent({ operation: 'LabelParameterVersion' })],
    ['a tenant id we never issue', parameterEvent({ operation: 'Update', name: `${TENANTS_PATH}bad:tenant/paramconfig/x` })],
    ['a tag served by DynamoDB', parameterEvent({ operation: 'Update', key: 'tenantconfig:plan' })],
    ['an unregistered tag', parameterEvent({ operation: 'Update', key: 'nosuchtag:x' })],
    ['a name that is only a tenant', parameterEvent({ operation: 'Update', name: `${TENANTS_PATH}acme` })],
    ['a name that is only a tag', parameterEvent({ operation: 'Update', name: `${TENANTS_PATH}acme/paramconfig` })],
    ['a name outside the key grammar', parameterEvent({ operation: 'Update', name: `${TENANTS_PATH}acme/paramconfig/a/../b` })],
  ])('%s is foreign', (_what, event) => {
    expect(parse(event).kind).toBe('foreign');
  });

  it.each([
    ['no name', (d: Record<string, unknown>) => delete d.name],
    ['a numeric name', (d: Record<string, unknown>) => (d.name = 7)],
    ['no operation', (d: Record<string, unknown>) => delete d.operation],
  ])('%s is malformed', (_what, mutate) => {
    const event = parameterEvent({ operation: 'Update' }) as { detail: Record<string, unknown> };
    mutate(event.detail);
    expect(parse(event).kind).toBe('malformed');
  });

  it('an event without a time is malformed', () => {
    const event = parameterEvent({ operation: 'Update' });
    delete (event as Record<string, unknown>).time;
    expect(parse(event).kind).toBe('malformed');
  });
});
