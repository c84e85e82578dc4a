import { changeEventRules, createLocalPipe, forwardParameterStoreChanges } from '../../local/events/change-event-sources';
import { createLocalEventBus, type BusEvent } from '../../local/events/local-event-bus';
import { recordForChange } from '../../local/events/stream-record';
import { parameterEvent, patterns, pipeEvent } from './support/change-events';

const asBusEvent = (e: Record<string, unknown>) => e as unknown as BusEvent;
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('local event bus', () => {
  it('delivers an event to the rules of its bus whose pattern matches, and to no other', async () => {
    // Arrange
    const seen: string[] = [];
    const bus = createLocalEventBus({ rules: changeEventRules(patterns, (e) => seen.push(e.source)), retry: fast });
    // Act
    const dynamo = bus.put('config-changes', asBusEvent(pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 1 } })));
    const ssm = bus.put('default', asBusEvent(parameterEvent({ operation: 'Update' })));
    const wrongBus = bus.put('default', asBusEvent(pipeEvent({ eventName: 'INSERT', newRow: { version: 1, value: 1 } })));
    const unmatched = bus.put('default', asBusEvent(parameterEvent({ operation: 'LabelParameterVersion' })));
    await bus.idle();
    // Assert
    expect([dynamo, ssm, wrongBus, unmatched]).toEqual([['dynamodbChange'], ['parameterStoreChange'], [], []]);
    expect(seen.sort()).toEqual(['aws.ssm', 'tenantconfig.pipe']);
    expect(bus.stats).toMatchObject({ put: 4, unmatched: 2, delivered: 2 });
  });

  it('retries a failing target with backoff and delivers once it succeeds', async () => {
    let calls = 0;
    const bus = createLocalEventBus({
      rules: changeEventRules(patterns, () => {
        calls += 1;
        if (calls < 3) throw new Error('cache unavailable');
      }),
      retry: fast,
    });
    bus.put('default', asBusEvent(parameterEvent({ operation: 'Update' })));
    await bus.idle();
    expect(calls).toBe(3);
    expect(bus.stats).toMatchObject({ delivered: 1, retried: 2, deadLettered: 0 });
    expect(bus.deadLetters).toEqual([]);
  });

  it('dead-letters an event after the last try, with the error, and goes on with the next', async () => {
    const delivered: string[] = [];
    const bus = createLocalEventBus({
      rules: changeEventRules(patterns, (e) => {
        if ((e.detail as { operation?: string }).operation === 'Delete') throw new Error('store unavailable');
        delivered.push(e.id);
      }),
      retry: fast,
    });
    const failing = asBusEvent(parameterEvent({ operation: 'Delete' }));
    bus.put('default', failing);
    bus.put('default', asBusEvent({ ...parameterEvent({ operation: 'Update' }), id: 'after' }));
    await bus.idle();
    expect(bus.deadLetters).toHaveLength(1);
    expect(bus.deadLetters[0]).toMatchObject({ rule: 'parameterStoreChange', event: failing, attempts: 3, error: 'Error: store unavailable' });
    expect(delivered).toEqual(['after']);
  });

  it('keeps deliveries in order per item, even when an earlier one is slow or retried', async () => {
    const order: number[] = [];
    let failedOnce = false;
    const bus = createLocalEventBus({
      rules: changeEventRules(patterns, async (e) => {
        const version = Number((e.detail as { dynamodb: { NewImage: { version: { N: string } } } }).dynamodb.NewImage.version.N);
        if (version === 1 && !failedOnce) {
          failedOnce = true;
          throw new Error('transient');
        }
        await new Promise((r) => setTimeout(r, version === 2 ? 20 : 0));
        order.push(version);
      }),
      retry: fast,
    });
    for (let v = 1; v <= 5; v++)
      bus.put('config-changes', asBusEvent(pipeEvent({ eventName: 'MODIFY', newRow: { version: v, value: v }, oldRow: { version: v - 1, value: 0 } })));
    await bus.idle();
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it('does not hold one item behind another item’s slow delivery', async () => {
    const finished: string[] = [];
    let releaseSlow!: () => void;
    const slow = new Promise<void>((r) => (releaseSlow = r));
    const bus = createLocalEventBus({
      rules: changeEventRules(patterns, async (e) => {
        const key = (e.detail as { dynamodb: { Keys: { configKey: { S: string } } } }).dynamodb.Keys.configKey.S;
        if (key === 'tenantconfig:slow') await slow;
        finished.push(key);
      }),
    });
    bus.put('config-changes', asBusEvent(pipeEvent({ eventName: 'INSERT', key: 'tenantconfig:slow', newRow: { version: 1, value: 1 } })));
    bus.put('config-changes', asBusEvent(pipeEvent({ eventName: 'INSERT', key: 'tenantconfig:fast', newRow: { version: 1, value: 1 } })));
    await new Promise((r) => setTimeout(r, 20));
    expect(finished).toEqual(['tenantconfig:fast']);
    releaseSlow();
    await bus.idle();
    expect(finished).toEqual(['tenantconfig:fast', 'tenantconfig:slow']);
  });

  it('refuses a rule with a malformed pattern at creation, naming the rule', () => {
    expect(() => createLocalEventBus({ rules: [{ name: 'broken', eventBus: 'default', pattern: { source: 'aws.ssm' }, target: () => undefined }] })).toThrow(
      /broken/,
    );
  });

  it('refuses events after close, once the queued ones are delivered', async () => {
    const seen: string[] = [];
    const bus = createLocalEventBus({
      rules: changeEventRules(patterns, async (e) => {
        await new Promise((r) => setTimeout(r, 10));
        seen.push(e.id);
      }),
    });
    bus.put('default', asBusEvent(parameterEvent({ operation: 'Update' })));
    await bus.close();
    expect(seen).toHaveLength(1);
    expect(() => bus.put('default', asBusEvent(parameterEvent({ operation: 'Update' })))).toThrow(/closed/);
  });
});

describe('local producers of change events', () => {
  it('the Pipe wraps a stream record as AWS does and drops what its filter rejects', async () => {
    const received: BusEvent[] = [];
    const bus = createLocalEventBus({ rules: changeEventRules(patterns, (e) => received.push(e)) });
    const pipe = createLocalPipe({ bus, patterns, streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x', region: 'us-east-1' });
    const image = (key: string) => ({ tenantId: { S: 'acme' }, configKey: { S: key }, version: { N: '1' }, valueJson: { S: '1' } });
    let n = 0;
    const record = (key: string) =>
      recordForChange({ keyNames: ['tenantId', 'configKey'], before: undefined, after: image(key), region: 'us-east-1', sequenceNumber: () => String(++n) })!;
    pipe(record('tenantconfig:plan'));
    pipe(record('#lease#paramconfig:x'));
    await bus.idle();
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'DynamoDB Stream Record',
      source: 'tenantconfig.pipe',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [],
      detail: {
        ...record('tenantconfig:plan'),
        eventID: expect.any(String),
        dynamodb: expect.objectContaining({ Keys: { tenantId: { S: 'acme' }, configKey: { S: 'tenantconfig:plan' } } }),
        eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
      },
    });
  });

  it('a Parameter Store change becomes the documented event shape on the default bus', async () => {
    const received: BusEvent[] = [];
    const bus = createLocalEventBus({ rules: changeEventRules(patterns, (e) => received.push(e)) });
    const forward = forwardParameterStoreChanges(bus, { region: 'eu-west-1', account: '123456789012' });
    forward({
      name: '/tenant-config/test/tenants/acme/paramconfig/db/pool/max',
      operation: 'Create',
      version: 1,
      type: 'String',
      time: new Date('2026-11-22T10:16:02.345Z'),
    });
    await bus.idle();
    expect(received).toEqual([
      {
        version: '0',
        id: expect.any(String),
        'detail-type': 'Parameter Store Change',
        source: 'aws.ssm',
        account: '123456789012',
        time: '2026-11-22T10:16:02Z',
        region: 'eu-west-1',
        resources: ['arn:aws:ssm:eu-west-1:123456789012:parameter/tenant-config/test/tenants/acme/paramconfig/db/pool/max'],
        detail: { operation: 'Create', name: '/tenant-config/test/tenants/acme/paramconfig/db/pool/max', type: 'String' },
      },
    ]);
  });
});
