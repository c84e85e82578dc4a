/**
 * The property behind "snapshot consistent with its cursor, then changes without gaps or
 * duplicates": whatever the interleaving of writes and stream starts, what a stream sends for
 * each key is its snapshot entry followed by exactly the writes after it, in order — and the
 * state it builds equals the backend's.
 */
import fc from 'fast-check';
import { startHarness, tenant as tenantId, type FanoutHarness, type WatchRecorder } from './harness';

type Op = { key: number; kind: 'put' | 'del' };
type Written = { version: number; deleted: boolean };

const KEYS = ['tenantconfig:a', 'tenantconfig:b', 'flags:c'];

describe('snapshot + changes under concurrent writes', () => {
  let h: FanoutHarness;
  let run = 0;
  beforeAll(async () => {
    h = await startHarness({ watch: { heartbeatIntervalMs: 60_000 } });
  });
  afterAll(() => h.close());

  it('every stream gets each key as its snapshot entry plus exactly the later writes, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: KEYS.length - 1 }), kind: fc.constantFrom<'put' | 'del'>('put', 'put', 'del') }), {
          minLength: 5,
          maxLength: 40,
        }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        async (ops: Op[], starts: number[]) => {
          // Arrange
          run += 1;
          const tenant = `prop-${run}`;
          const written = new Map<string, Written[]>(KEYS.map((k) => [k, []]));
          const live = new Set<string>();
          const watches: WatchRecorder[] = [];
          const startAt = new Set(starts.map((s) => s % ops.length));

          // Act: writes, with streams starting in between (not waiting for their snapshots).
          for (const [i, op] of ops.entries()) {
            if (startAt.has(i)) watches.push(h.watch(h.token(tenant)));
            const key = KEYS[op.key];
            if (op.kind === 'del' && live.has(key)) {
              written.get(key)!.push({ version: await h.writer.remove(tenant, key), deleted: true });
              live.delete(key);
            } else {
              written.get(key)!.push({ version: (await h.writer.put(tenant, key, i)).version, deleted: false });
              live.add(key);
            }
            await new Promise((r) => setImmediate(r));
          }
          const finalVersions = new Map([...live].map((k) => [k, written.get(k)!.at(-1)!.version]));
          // Only this tenant writes now, so the head of its shard is the cursor of its last write.
          const head = await h.log.head(tenantId(tenant));
          const reached = (r: WatchRecorder) => r.events.some((e) => (e.change?.cursor ?? e.snapshot?.cursor) === head);
          await Promise.all(watches.map((w) => w.until(reached, 5000, 'the cursor of the last write')));

          // Assert
          for (const w of watches) {
            expect(stateOf(w)).toEqual(finalVersions);
            expect(w.snapshots).toHaveLength(1);
            for (const key of KEYS) {
              const history = written.get(key)!;
              const item = w.snapshots[0].items.find((x) => x.key === key);
              const sent = w.changes.filter((c) => c.key === key).map((c) => ({ version: c.version, deleted: c.deleted }));
              if (item) {
                const at = history.findIndex((x) => !x.deleted && x.version === item.version);
                expect(at).toBeGreaterThanOrEqual(0);
                expect(sent).toEqual(history.slice(at + 1));
              } else {
                // Absent from the snapshot: the changes are a whole tail of the history.
                expect(sent).toEqual(history.slice(history.length - sent.length));
              }
            }
            w.cancel();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

function stateOf(w: WatchRecorder): Map<string, number> {
  const state = new Map<string, number>();
  for (const e of w.events) {
    if (e.snapshot) {
      state.clear();
      for (const item of e.snapshot.items) state.set(item.key, item.version);
    } else if (e.change) {
      if (e.change.deleted) state.delete(e.change.key);
      else state.set(e.change.key, e.change.version);
    }
  }
  return state;
}
