/**
 * One Watch for many tenants: a service or an operator following a list of tenants or every
 * tenant ("*") on one stream. Paged snapshots across tenants, tenant_id on every item and
 * change, changes of tenants created after the stream started, the multi-shard resume cursor
 * (resume, refusals, trimmed → CURSOR_EXPIRED, heartbeats), secret tags, the request bounds,
 * the log line, and the stream limit per service identity. Real server, real gRPC clients.
 */
import * as grpc from '@grpc/grpc-js';
import { parseMultiCursor, tenantSetId } from '../../core/change-log';
import type { GenericLogger } from '../../core/logger';
import { SCOPES } from '../../core/principal';
import { harnessPerSuite, startHarness, waitFor, type FanoutHarness, type WatchRecorder } from './harness';

const paged = { paged_snapshots: true } as const;
const complete = (r: WatchRecorder) => r.snapshots.some((s) => !s.more);

describe('Watch of many tenants', () => {
  let h: FanoutHarness;
  const logged: Array<{ message: string; attributes: Record<string, unknown> }> = [];
  const logger: GenericLogger = {
    debug: () => undefined,
    info: (message, ...attributes) => logged.push({ message, attributes: Object.assign({}, ...attributes) as Record<string, unknown> }),
    warn: () => undefined,
    error: () => undefined,
  };
  let service: string;
  let operator: string;

  beforeAll(async () => {
    h = await startHarness({ anyServiceClient: true, watch: { heartbeatIntervalMs: 300, snapshotPageBytes: 1024, maxTenantsPerWatch: 50 }, logger });
    service = h.signer.signServiceToken({ service: 'billing' });
    operator = h.signer.signOperatorToken({ operator: 'alice' });
  });
  afterAll(() => h.close());

  it('snapshots many tenants in pages, every item with its tenant_id, the cursor on the last page only', async () => {
    // Arrange: 40 tenants of 3 keys each, more than one 1 KiB page.
    const tenants = Array.from({ length: 40 }, (_, i) => `pg${String(i).padStart(2, '0')}`);
    for (const t of tenants) for (const k of ['a', 'b', 'c']) await h.writer.put(t, `tenantconfig:${k}`, `${t}-${k}`);

    // Act
    const watch = h.watch(service, { tenants, ...paged });
    await watch.until(complete, 5000, 'the whole snapshot');

    // Assert
    const pages = watch.snapshots;
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.slice(0, -1).every((p) => p.more && p.cursor === '')).toBe(true);
    expect(pages.at(-1)!.cursor).toMatch(/^m1\./);
    const got = pages.flatMap((p) => p.items).map((i) => `${i.tenant_id}/${i.key}=${JSON.parse(i.value_json)}`);
    expect(got.sort()).toEqual(tenants.flatMap((t) => ['a', 'b', 'c'].map((k) => `${t}/tenantconfig:${k}=${t}-${k}`)).sort());
    watch.cancel();
  });

  it('delivers the changes of the listed tenants only, each with its tenant_id and a cursor of the whole stream', async () => {
    // Arrange
    const watch = h.watch(service, { tenants: ['lst-a', 'lst-b'], ...paged });
    await watch.until(complete);

    // Act
    await h.writer.put('lst-c', 'tenantconfig:x', 'not followed');
    await h.writer.put('lst-a', 'tenantconfig:x', 'a1');
    await h.writer.put('lst-b', 'tenantconfig:x', 'b1');
    await h.writer.put('lst-a', 'tenantconfig:x', 'a2');
    await watch.until((r) => r.changes.length >= 3, 5000, 'three changes');
    // A later change of a followed tenant: everything before it in its shard has been delivered.
    await h.writer.put('lst-a', 'tenantconfig:end', true);
    await watch.until((r) => r.changes.some((c) => c.key === 'tenantconfig:end'));

    // Assert
    const changes = watch.changes.filter((c) => c.key === 'tenantconfig:x');
    expect(changes.map((c) => [c.tenant_id, JSON.parse(c.value_json)]).filter(([t]) => t === 'lst-a')).toEqual([
      ['lst-a', 'a1'],
      ['lst-a', 'a2'],
    ]);
    expect(changes.filter((c) => c.tenant_id === 'lst-b').map((c) => JSON.parse(c.value_json))).toEqual(['b1']);
    expect(watch.changes.map((c) => c.tenant_id)).not.toContain('lst-c');
    const shards = [...new Set(['lst-a', 'lst-b'].map((t) => h.log.shardOf(t)))].sort((a, b) => a - b);
    for (const c of watch.changes) {
      expect(() => parseMultiCursor(c.cursor, tenantSetId(['lst-a', 'lst-b']), shards, h.log.shardCount)).not.toThrow();
    }
    watch.cancel();
  });

  it('gives a Watch of every tenant the changes of a tenant that had no data when it started', async () => {
    // Arrange
    const watch = h.watch(operator, { tenants: ['*'], ...paged });
    await watch.until(complete);

    // Act
    await h.writer.put('newcomer', 'tenantconfig:plan', 'fresh');
    await watch.until((r) => r.changes.some((c) => c.tenant_id === 'newcomer'), 5000, "the newcomer's change");

    // Assert
    const change = watch.changes.find((c) => c.tenant_id === 'newcomer')!;
    expect([change.key, JSON.parse(change.value_json), change.version]).toEqual(['tenantconfig:plan', 'fresh', 1]);
    expect(watch.snapshots.flatMap((s) => s.items).map((i) => i.tenant_id)).not.toContain('newcomer');
    watch.cancel();
  });

  it('resumes a stream of several tenants with its cursor: only the changes it missed, across shards, no snapshot', async () => {
    // Arrange: two tenants in different log shards.
    const [a, b] = ['rs-a', 'rs-b2'];
    expect(h.log.shardOf(a)).not.toBe(h.log.shardOf(b));
    await h.writer.put(a, 'tenantconfig:k', 'a1');
    const first = h.watch(service, { tenants: [a, b], ...paged });
    await first.until(complete);
    await h.writer.put(b, 'tenantconfig:k', 'b1');
    await first.until((r) => r.changes.length === 1);
    const cursor = first.lastCursor!;
    first.cancel();

    // Act: written while nobody watched.
    await h.writer.put(a, 'tenantconfig:k', 'a2');
    await h.writer.put(b, 'tenantconfig:k', 'b2');
    await h.writer.put('rs-other', 'tenantconfig:k', 'not followed');
    const resumed = h.watch(service, { tenants: [b, a], resume_cursor: cursor, ...paged });
    await resumed.until((r) => r.changes.length === 2, 5000, 'the two missed changes');
    await h.writer.put(a, 'tenantconfig:k', 'a3');
    await resumed.until((r) => r.changes.length === 3, 5000, 'a live change after the catch-up');

    // Assert
    expect(resumed.snapshots).toHaveLength(0);
    expect(resumed.changes.map((c) => `${c.tenant_id}=${JSON.parse(c.value_json)}`).sort()).toEqual(['rs-a=a2', 'rs-a=a3', 'rs-b2=b2']);
    expect(resumed.changes.filter((c) => c.tenant_id === a).map((c) => c.version)).toEqual([2, 3]);
    resumed.cancel();
  });

  it('refuses, with INVALID_ARGUMENT, a cursor of another form or of another set of tenants', async () => {
    // Arrange
    const one = h.watch(service, { tenants: ['cur-a'], ...paged });
    await one.until(complete);
    const single = one.lastCursor!;
    one.cancel();
    const many = h.watch(service, { tenants: ['cur-a', 'cur-b'], ...paged });
    await many.until(complete);
    const multi = many.lastCursor!;
    many.cancel();

    // Act
    const outcomes = await Promise.all(
      [
        { tenants: ['cur-a', 'cur-b'], resume_cursor: single },
        { tenants: ['cur-a', 'cur-c'], resume_cursor: multi },
        { tenants: ['*'], resume_cursor: multi },
        { tenants: ['cur-a'], resume_cursor: multi },
        { tenants: ['cur-a', 'cur-b'], resume_cursor: `${multi}~0.0123456789ab.1-0` },
        { tenants: ['cur-a', 'cur-b'], resume_cursor: 'm1.all.garbage' },
      ].map((request) => h.watch(service, { ...request, ...paged }).status),
    );
    const same = h.watch(service, { tenants: ['cur-b', 'cur-a'], resume_cursor: multi, ...paged });
    await waitFor(() => h.server.stats().streams.some((s) => s.tenants === 2 && s.state === 'live'), 'the stream resumed with its own cursor');

    // Assert
    expect(outcomes.map((s) => grpc.status[s.code])).toEqual(Array(6).fill('INVALID_ARGUMENT'));
    expect(outcomes[1].details).toMatch(/another set of tenants/);
    expect(same.done).toBeUndefined();
    same.cancel();
  });

  it('heartbeats carry a current cursor of every shard of the stream', async () => {
    // Arrange
    const watch = h.watch(service, { tenants: ['*'], ...paged });
    await watch.until(complete);
    const atSnapshot = watch.snapshots.at(-1)!.cursor;

    // Act
    await h.writer.put('hb-x', 'tenantconfig:k', 1);
    await watch.until(
      (r) => r.events.some((e, i) => e.event === 'heartbeat' && i > r.events.findIndex((f) => f.event === 'change')),
      5000,
      'a heartbeat after a change',
    );

    // Assert
    const beat = watch.events.filter((e) => e.event === 'heartbeat').at(-1)!.heartbeat!.cursor;
    const all = Array.from({ length: h.log.shardCount }, (_, i) => i);
    const positions = parseMultiCursor(beat, 'all', all, h.log.shardCount);
    const before = parseMultiCursor(atSnapshot, 'all', all, h.log.shardCount);
    const shard = h.log.shardOf('hb-x');
    expect(positions.get(shard)!.id).not.toBe(before.get(shard)!.id);
    watch.cancel();
  });

  it('sends a tenant reader no secret tag when it names no prefix, neither in the snapshot nor in changes', async () => {
    // Arrange
    await h.writer.put('sec', 'tenantconfig:plan', 'gold');
    await h.writer.put('sec', 'secretconfig:api-key', 'hush');
    const reader = h.watch(h.signer.signToken({ tenant: 'sec' }), paged);
    const admin = h.watch(h.signer.signToken({ tenant: 'sec', admin: true }), paged);
    const plainService = h.watch(service, { tenants: ['sec', 'sec-2'], ...paged });
    await Promise.all([reader, admin, plainService].map((w) => w.until(complete)));

    // Act
    await h.writer.put('sec', 'secretconfig:api-key', 'hush-2');
    await h.writer.put('sec', 'tenantconfig:plan', 'platinum');
    await Promise.all([reader, admin, plainService].map((w) => w.until((r) => r.changes.some((c) => c.key === 'tenantconfig:plan'))));

    // Assert
    const keysOf = (w: WatchRecorder) => [
      ...w.snapshots
        .flatMap((s) => s.items)
        .map((i) => `s:${i.key}`)
        .sort(),
      ...w.changes.map((c) => `c:${c.key}`),
    ];
    expect(keysOf(reader)).toEqual(['s:tenantconfig:plan', 'c:tenantconfig:plan']);
    expect(keysOf(plainService)).toEqual(['s:tenantconfig:plan', 'c:tenantconfig:plan']);
    expect(keysOf(admin)).toEqual(['s:secretconfig:api-key', 's:tenantconfig:plan', 'c:secretconfig:api-key', 'c:tenantconfig:plan']);
    for (const w of [reader, admin, plainService]) w.cancel();
  });

  it('refuses more tenant ids than the limit, saying to follow "*", and a Watch of several tenants without paged snapshots', async () => {
    // Act
    const tooMany = await h.watch(service, { tenants: Array.from({ length: 51 }, (_, i) => `t${i}`), ...paged }).status;
    const unpaged = await h.watch(service, { tenants: ['a', 'b'] }).status;
    const unpagedOne = h.watch(service, { tenants: ['solo'] });
    await unpagedOne.until((r) => r.snapshots.length === 1, 5000, 'a one-message snapshot of one tenant');

    // Assert
    expect([tooMany.code, unpaged.code]).toEqual([grpc.status.INVALID_ARGUMENT, grpc.status.INVALID_ARGUMENT]);
    expect(tooMany.details).toMatch(/at most 50 tenants.*"\*"/);
    expect(unpaged.details).toMatch(/paged_snapshots/);
    expect(unpagedOne.snapshots[0].items.every((i) => i.tenant_id === 'solo')).toBe(true);
    unpagedOne.cancel();
  });

  it('logs every cross-tenant Watch with the principal kind, its subject and the tenants', async () => {
    // Arrange
    logged.length = 0;

    // Act
    const list = h.watch(service, { tenants: ['log-b', 'log-a'], ...paged });
    const all = h.watch(operator, { tenants: ['*'], ...paged });
    const own = h.watch(h.signer.signToken({ tenant: 'log-own' }), paged);
    await Promise.all([list, all, own].map((w) => w.until(complete)));

    // Assert
    const lines = logged.filter((l) => l.message === 'cross-tenant watch').map((l) => [l.attributes.principalKind, l.attributes.subject, l.attributes.tenants]);
    expect(lines).toEqual(
      expect.arrayContaining([
        ['service', 'billing', ['log-a', 'log-b']],
        ['operator', 'alice', '*'],
      ]),
    );
    expect(lines).toHaveLength(2);
    for (const w of [list, all, own]) w.cancel();
  });
});

describe('Watch of many tenants: trimmed cursor', () => {
  let h: FanoutHarness;
  harnessPerSuite({ anyServiceClient: true, cache: { logMaxLen: 5 }, watch: { heartbeatIntervalMs: 60_000 } }, (x) => (h = x));

  it('answers a cursor trimmed from one of its shards with a fresh snapshot of every tenant, reason CURSOR_EXPIRED', async () => {
    // Arrange
    const token = h.signer.signServiceToken({ service: 'billing', scopes: [SCOPES.read] });
    await h.writer.put('tr-a', 'tenantconfig:k', 0);
    await h.writer.put('tr-b2', 'tenantconfig:k', 0);
    const first = h.watch(token, { tenants: ['tr-a', 'tr-b2'], ...paged });
    await first.until(complete);
    const cursor = first.lastCursor!;
    first.cancel();

    // Act: far more entries in tr-a's shard than the log keeps.
    for (let i = 1; i <= 40; i++) await h.writer.put('tr-a', 'tenantconfig:k', i);
    const resumed = h.watch(token, { tenants: ['tr-a', 'tr-b2'], resume_cursor: cursor, ...paged });
    await resumed.until(complete, 5000, 'the fresh snapshot');

    // Assert
    const items = resumed.snapshots.flatMap((s) => s.items).map((i) => `${i.tenant_id}=${JSON.parse(i.value_json)}`);
    expect(resumed.snapshots.every((s) => s.reason === 'CURSOR_EXPIRED')).toBe(true);
    expect(items.sort()).toEqual(['tr-a=40', 'tr-b2=0']);
    resumed.cancel();
  });
});

describe('Watch limits per principal', () => {
  let h: FanoutHarness;
  harnessPerSuite({ anyServiceClient: true, watch: { heartbeatIntervalMs: 60_000, maxStreamsPerIdentity: 2 } }, (x) => (h = x));

  it('counts a service’s streams under its own identity, one slot per stream however many tenants it follows', async () => {
    // Arrange
    const billing = h.signer.signServiceToken({ service: 'billing' });
    const open = [h.watch(billing, { tenants: ['*'], ...paged }), h.watch(billing, { tenants: Array.from({ length: 300 }, (_, i) => `m${i}`), ...paged })];
    await Promise.all(open.map((w) => w.until(complete)));

    // Act
    const refused = await h.watch(billing, { tenants: ['acme'], ...paged }).status;
    const others = [
      h.watch(h.signer.signServiceToken({ service: 'search' }), { tenants: ['*'], ...paged }),
      h.watch(h.signer.signOperatorToken({ operator: 'alice' }), { tenants: ['*'], ...paged }),
      h.watch(h.signer.signToken({ tenant: 'acme' }), paged),
    ];
    await Promise.all(others.map((w) => w.until(complete)));

    // Assert
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/for service 'billing' on this server: the limit is 2 at once per service per fanout process/);
    const stats = h.server.stats();
    expect([stats.streamsOf('service:billing'), stats.streamsOf('service:search'), stats.streamsOf('operator:alice'), stats.streamsOf('tenant:acme')]).toEqual([
      2, 1, 1, 1,
    ]);
    open[0].cancel();
    await waitFor(() => h.server.stats().streamsOf('service:billing') === 1, 'the cancelled stream to end');
    const again = h.watch(billing, { tenants: ['*'], ...paged });
    await again.until(complete, 5000, 'a stream once a slot is free');
    for (const w of [...open, ...others, again]) w.cancel();
  });
});
