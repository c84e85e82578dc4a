/**
 * Property tests of the version guard and the log, against the in-memory cache and a real
 * redis-server: whatever order, duplication, delay or interleaving with read-through fills the
 * change events arrive in, the cache ends at the newest change, a concurrent reader never sees
 * it go back, and the log holds each accepted change once, in order.
 *
 * Two models of a store: DynamoDB (versions never go backwards, no store times) and
 * Parameter Store (versions restart at 1 after a delete; every change carries its store time).
 */
import fc from 'fast-check';
import type { ChangeEvent, ChangeLog } from '../../core/change-log';
import type { ConfigItem } from '../../core/item';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { parseTenantId } from '../../core/tenant';
import type { CacheChange, CacheLookup, VersionedCache } from '../../core/versioned-cache';
import { describeIf, startRedis, type RunningServer } from '../support/servers';
import { redisSubjects, redisTestConfig, type RedisSubjects } from '../support/redis/redis-subject';

type Model = 'dynamodb' | 'ssm';

const T = parseTenantId('prop');
let keyCounter = 0;

/** The true history of one key: puts and deletes in commit order. */
function history(ops: readonly boolean[], model: Model, key: string): CacheChange[] {
  const changes: CacheChange[] = [];
  let version = 0;
  let live = false;
  ops.forEach((put, i) => {
    // Strictly increasing store times, one clock (Parameter Store's).
    const at = Date.UTC(2026, 0, 1) + i * 10;
    const timed = model === 'ssm' ? { modifiedAtMs: at } : {};
    if (put || !live) {
      version += 1;
      live = true;
      changes.push({ key, version, deleted: false, valueJson: JSON.stringify(i), updatedAt: new Date(at).toISOString(), updatedBy: 'w', ...timed });
    } else {
      live = false;
      changes.push({ key, version, deleted: true, updatedAt: new Date(at).toISOString(), updatedBy: 'd', ...timed });
      if (model === 'ssm') version = 0;
    }
  });
  return changes;
}

interface Delivery {
  readonly index: number;
  readonly as: 'apply' | 'fill';
  readonly delayMs: number;
  readonly lane: number;
}

const scenario = (model: Model) =>
  fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }).chain((ops) => {
    const changes = history(ops, model, 'tenantconfig:p');
    const delivery = (index: fc.Arbitrary<number>, as: fc.Arbitrary<'apply' | 'fill'>) =>
      fc.record({ index, as, delayMs: fc.nat({ max: 3 }), lane: fc.nat({ max: 2 }) });
    const everyOnce = fc.tuple(...changes.map((_, i) => delivery(fc.constant(i), fc.constant('apply' as const))));
    const extras = fc.array(delivery(fc.nat({ max: changes.length - 1 }), fc.constantFrom('apply' as const, 'fill' as const)), { maxLength: 10 });
    return fc.tuple(everyOnce, extras).chain(([once, more]) => {
      const all: Delivery[] = [...once, ...more];
      return fc.record({
        changes: fc.constant(changes),
        deliveries: fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
      });
    });
  });

/** Ranks a cache state or log event in the model's order; undefined where the model cannot tell. */
function rankOfLookup(model: Model, l: CacheLookup): number | undefined {
  if (l.kind === 'hit') return model === 'ssm' ? Date.parse(l.item.updatedAt) : l.item.version * 2;
  if (l.kind === 'absent' && l.reason === 'tombstone' && model === 'dynamodb') return l.version! * 2 + 1;
  return undefined;
}

function rankOfEvent(model: Model, e: ChangeEvent): number {
  return model === 'ssm' ? Date.parse(e.updatedAt) : e.version * 2 + (e.deleted ? 1 : 0);
}

function itemOf(change: CacheChange): ConfigItem | undefined {
  if (change.deleted) return undefined;
  return { key: change.key, value: JSON.parse(change.valueJson!), version: change.version, updatedAt: change.updatedAt, updatedBy: change.updatedBy };
}

async function eventsFor(log: ChangeLog, from: string, key: string): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  let cursor = from;
  for (;;) {
    const page = await log.readAfter(T, cursor, 1000);
    if (page.trimmed) throw new Error('log trimmed during a property run');
    out.push(...page.events.filter((e) => e.key === key));
    cursor = page.cursor;
    if (!page.more) return out;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runScenario(cache: VersionedCache, log: ChangeLog, model: Model, template: CacheChange[], deliveries: Delivery[]): Promise<void> {
  // A fresh key per run (shrinking replays scenarios) keeps runs apart on the shared cache.
  const key = `tenantconfig:p${++keyCounter}`;
  const changes = template.map((c) => ({ ...c, key }));
  const head = await log.head(T);
  const lanes = [0, 1, 2].map((lane) => deliveries.filter((d) => d.lane === lane));
  let done = false;
  const seen: CacheLookup[] = [];
  const reader = (async () => {
    while (!done) {
      seen.push(await cache.get(T, key));
      await sleep(0);
    }
  })();
  await Promise.all(
    lanes.map(async (lane) => {
      for (const d of lane) {
        if (d.delayMs > 0) await sleep(d.delayMs);
        const change = changes[d.index];
        if (d.as === 'apply') await cache.apply(T, change);
        else await cache.fill(T, key, itemOf(change), { withStoreTime: model === 'ssm' });
      }
    }),
  );
  done = true;
  await reader;
  seen.push(await cache.get(T, key));

  // The cache ends at the newest change.
  const last = changes[changes.length - 1];
  const final = seen[seen.length - 1];
  if (last.deleted) expect(final).toMatchObject({ kind: 'absent', reason: 'tombstone' });
  else expect(final).toMatchObject({ kind: 'hit', item: { version: last.version, updatedAt: last.updatedAt } });

  // A concurrent reader never sees it go back (and never loses an entry once there was one).
  let highest = -Infinity;
  let hadEntry = false;
  for (const l of seen) {
    if (hadEntry) expect(l.kind === 'miss' || (l.kind === 'absent' && l.reason === 'negative')).toBe(false);
    if (l.kind === 'hit' || (l.kind === 'absent' && l.reason === 'tombstone')) hadEntry = true;
    const rank = rankOfLookup(model, l);
    if (rank === undefined) continue;
    expect(rank).toBeGreaterThanOrEqual(highest);
    highest = rank;
  }

  // The log holds each accepted change once, in commit order, ending in the final state.
  const events = await eventsFor(log, head, key);
  const ranks = events.map((e) => rankOfEvent(model, e));
  ranks.forEach((r, i) => i > 0 && expect(r).toBeGreaterThan(ranks[i - 1]));
  const truth = new Set(changes.map((c) => `${c.deleted}/${c.version}/${c.updatedAt}`));
  for (const e of events) expect(truth.has(`${e.deleted}/${e.version}/${e.updatedAt}`)).toBe(true);
  const lastEvent = events[events.length - 1];
  expect(lastEvent.deleted).toBe(last.deleted);
  if (!last.deleted) expect(lastEvent).toMatchObject({ version: last.version, updatedAt: last.updatedAt });
}

function orderingProperties(subject: () => { cache: VersionedCache; log: ChangeLog }, numRuns: number): void {
  for (const model of ['dynamodb', 'ssm'] as const) {
    it(`${model} model: any order, duplication, delay and interleaved fills end at the newest change, never going back, logged once in order`, async () => {
      const { cache, log } = subject();
      await fc.assert(
        fc.asyncProperty(scenario(model), ({ changes, deliveries }) => runScenario(cache, log, model, changes, deliveries)),
        { numRuns },
      );
    });
  }
}

describe('version guard properties: in memory', () => {
  const cache = new InMemoryVersionedCache();
  afterAll(() => cache.close());
  orderingProperties(() => ({ cache, log: cache }), 100);
});

describeIf('redis-server')('version guard properties: redis-server', () => {
  let server: RunningServer;
  let subjects: RedisSubjects;
  let made: { cache: VersionedCache; log: ChangeLog };

  beforeAll(async () => {
    server = await startRedis();
    subjects = await redisSubjects(redisTestConfig(server.port));
    const { cache, log } = await subjects.make();
    made = { cache, log };
  });

  afterAll(async () => {
    await made?.log.close();
    await subjects?.close();
    await server?.stop();
  });

  orderingProperties(() => made, 40);
});
