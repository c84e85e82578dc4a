/**
 * `WatchRequest.include_attributes` (docs/design.md §4.2, §8.3 built: flags): a stream that asks
 * gets each followed tenant's registry attributes as an `@attributes` item in its snapshot and a
 * change of that key whenever they change; a stream that does not ask gets neither, and no
 * stream ever gets another tenant's. Real server, real gRPC clients, in-memory stores.
 */
import type { ChangeLog } from '../../core/change-log';
import { harnessPerSuite, type FanoutHarness, type WatchRecorder } from './harness';

const ATTRIBUTES = '@attributes';
const live = (r: WatchRecorder) => r.snapshots.some((s) => !s.more);
const attributeItems = (r: WatchRecorder) => r.snapshots.flatMap((s) => s.items).filter((i) => i.key === ATTRIBUTES);
const attributeChanges = (r: WatchRecorder) => r.changes.filter((c) => c.key === ATTRIBUTES);
const value = (json: string): unknown => JSON.parse(json);

describe('Watch with include_attributes', () => {
  let harness: FanoutHarness;
  harnessPerSuite({ layers: true, anyServiceClient: true }, (started) => (harness = started));
  const h = () => harness;

  it('the snapshot carries the tenant’s attributes and every change of them reaches a stream that asked, not one that did not, nor another tenant’s', async () => {
    // Arrange
    await h().writer.setAttributes('attr-acme', { plan: 'gold', region: 'eu' });
    await h().writer.setAttributes('attr-other', { plan: 'free' });
    await h().writer.put('attr-acme', 'tenantconfig:limit', 5);

    // Act
    const asked = h().watch(h().token('attr-acme'), { include_attributes: true });
    const plain = h().watch(h().token('attr-acme'), {});
    const other = h().watch(h().token('attr-other'), { include_attributes: true });
    await Promise.all([asked.until(live), plain.until(live), other.until(live)]);
    await h().writer.setAttributes('attr-acme', { plan: 'silver', region: 'eu' });
    await h().writer.put('attr-acme', 'tenantconfig:end', 1);
    await h().writer.put('attr-other', 'tenantconfig:end', 1);
    const ended = (r: WatchRecorder) => r.changes.some((c) => c.key === 'tenantconfig:end');
    await Promise.all([asked.until(ended), plain.until(ended), other.until(ended)]);

    // Assert: the snapshot's item, its shape and source
    expect(attributeItems(asked).map((i) => [i.tenant_id, value(i.value_json), i.source, i.version])).toEqual([
      ['attr-acme', { plan: 'gold', region: 'eu' }, 'registry', 1],
    ]);
    expect(attributeChanges(asked).map((c) => [c.tenant_id, value(c.value_json), c.source, c.version, c.deleted])).toEqual([
      ['attr-acme', { plan: 'silver', region: 'eu' }, 'registry', 2, false],
    ]);
    // The change carries a cursor the stream resumes from, like any change.
    expect(attributeChanges(asked)[0].cursor).not.toBe('');
    // Not asked: neither item nor change
    expect(attributeItems(plain)).toEqual([]);
    expect(attributeChanges(plain)).toEqual([]);
    // Another tenant's stream: its own attributes only
    expect(attributeItems(other).map((i) => [i.tenant_id, value(i.value_json)])).toEqual([['attr-other', { plan: 'free' }]]);
    expect(attributeChanges(other)).toEqual([]);
    for (const r of [asked, plain, other]) r.cancel();
  });

  it('an unregistered tenant has no @attributes item; registering it later arrives as a change', async () => {
    // Arrange
    const r = h().watch(h().token('attr-late'), { include_attributes: true });
    await r.until(live);

    // Act
    await h().writer.setAttributes('attr-late', { plan: 'gold' });
    await r.until((x) => attributeChanges(x).length > 0);

    // Assert
    expect(attributeItems(r)).toEqual([]);
    expect(attributeChanges(r).map((c) => [c.tenant_id, value(c.value_json)])).toEqual([['attr-late', { plan: 'gold' }]]);
    r.cancel();
  });

  it('a service following a list gets an item per listed registered tenant, not of tenants it does not follow', async () => {
    // Arrange
    await h().writer.setAttributes('attr-l1', { plan: 'gold' });
    await h().writer.setAttributes('attr-l2', { plan: 'free' });
    await h().writer.setAttributes('attr-l3', { plan: 'gold' });
    const token = h().signer.signServiceToken({ service: 'svc' });

    // Act
    const r = h().watch(token, { tenants: ['attr-l1', 'attr-l2'], paged_snapshots: true, include_attributes: true });
    await r.until(live);
    await h().writer.setAttributes('attr-l3', { plan: 'free' });
    await h().writer.setAttributes('attr-l2', { plan: 'gold' });
    await r.until((x) => attributeChanges(x).length > 0);

    // Assert
    expect(
      attributeItems(r)
        .map((i) => `${i.tenant_id}=${i.value_json}`)
        .sort(),
    ).toEqual(['attr-l1={"plan":"gold"}', 'attr-l2={"plan":"free"}']);
    expect(attributeChanges(r).map((c) => `${c.tenant_id}=${c.value_json}`)).toEqual(['attr-l2={"plan":"gold"}']);
    r.cancel();
  });

  it('a stream resumed with its cursor is sent the attributes again (and those changed while it was away)', async () => {
    // Arrange
    await h().writer.setAttributes('attr-resume', { plan: 'gold' });
    const first = h().watch(h().token('attr-resume'), { include_attributes: true });
    await first.until(live);
    const cursor = first.lastCursor!;
    first.cancel();
    await h().writer.setAttributes('attr-resume', { plan: 'free' });

    // Act
    const resumed = h().watch(h().token('attr-resume'), { include_attributes: true, resume_cursor: cursor });
    await resumed.until((x) => attributeChanges(x).some((c) => c.version === 2));

    // Assert: no snapshot; the newest attributes, maybe twice (catch-up, then the resend), never older
    expect(resumed.snapshots).toEqual([]);
    expect(new Set(attributeChanges(resumed).map((c) => c.value_json))).toEqual(new Set(['{"plan":"free"}']));
    resumed.cancel();
  });
});

describe('Watch with include_attributes while the hub trails the log', () => {
  /** While `held`, the hub's batches wait here: the log's head is ahead of what the process's memory holds. */
  let held = false;
  const waiting: Array<() => void> = [];
  let harness: FanoutHarness;
  harnessPerSuite(
    {
      layers: true,
      changeLog: (inner) =>
        new Proxy(inner, {
          get(target, property) {
            if (property === 'follow') {
              const follow: ChangeLog['follow'] = (start, onBatch, options) =>
                target.follow(
                  start,
                  (events) => {
                    if (!held) return onBatch(events);
                    waiting.push(() => void onBatch(events));
                  },
                  options,
                );
              return follow;
            }
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }),
    },
    (started) => (harness = started),
  );
  const h = () => harness;

  it('a change the snapshot’s attributes (from memory) predate reaches the stream, though its cursor is before the snapshot’s', async () => {
    // Arrange: the process knows acme as gold
    await h().writer.setAttributes('attr-race', { plan: 'gold' });
    const first = h().watch(h().token('attr-race'), { include_attributes: true });
    await first.until(live);
    first.cancel();
    held = true;
    await h().writer.setAttributes('attr-race', { plan: 'pro' });

    // Act: a snapshot taken at a head past the change, while the memory still says gold
    const r = h().watch(h().token('attr-race'), { include_attributes: true });
    await r.until(live);
    held = false;
    for (const release of waiting.splice(0)) release();
    await r.until((x) => attributeChanges(x).length > 0);

    // Assert
    expect(attributeItems(r).map((i) => value(i.value_json))).toEqual([{ plan: 'gold' }]);
    expect(attributeChanges(r).map((c) => [value(c.value_json), c.version])).toEqual([[{ plan: 'pro' }, 2]]);
    r.cancel();
  });
});
