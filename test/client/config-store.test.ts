import fc from 'fast-check';
import { ConfigStore, SharedItems, type IncomingChange } from '../../client/config-store';

const put = (key: string, value: unknown, version: number): IncomingChange => ({ key, value, version, deleted: false, updatedAt: 't', updatedBy: 'u' });
const del = (key: string, version: number): IncomingChange => ({ key, version, deleted: true, updatedAt: 't', updatedBy: 'u' });

describe('ConfigStore version guard', () => {
  it('applies newer versions and reports the previous value', () => {
    const store = new ConfigStore();
    store.apply(put('k', 'a', 1));

    const change = store.apply(put('k', 'b', 2));

    expect(change).toEqual({ key: 'k', value: 'b', version: 2, deleted: false, previous: { value: 'a', version: 1 } });
    expect(store.get('k')?.value).toBe('b');
  });

  it('ignores an equal (duplicate) or older version', () => {
    const store = new ConfigStore();
    store.apply(put('k', 'five', 5));

    expect(store.apply(put('k', 'dup', 5))).toBeUndefined();
    expect(store.apply(put('k', 'old', 4))).toBeUndefined();
    expect(store.get('k')?.value).toBe('five');
  });

  it('keeps a deleted key deleted against a late write of an older version', () => {
    const store = new ConfigStore();
    store.apply(put('k', 'v3', 3));

    const removed = store.apply(del('k', 3));
    const late = store.apply(put('k', 'v2', 2));
    const recreated = store.apply(put('k', 'v4', 4));

    expect(removed).toMatchObject({ deleted: true, version: 3, previous: { value: 'v3', version: 3 } });
    expect(late).toBeUndefined();
    expect(recreated).toMatchObject({ value: 'v4', version: 4 });
    expect(recreated?.previous).toBeUndefined();
  });

  it('freezes stored values so a reader cannot change what others read', () => {
    const store = new ConfigStore();
    store.apply(put('k', { limits: { max: 1 } }, 1));

    const value = store.get('k')?.value as { limits: { max: number } };

    expect(() => {
      value.limits.max = 2;
    }).toThrow(TypeError);
  });

  it('replaceAll reports additions, updates and deletions, and never moves a key back in time', () => {
    const store = new ConfigStore();
    store.replaceAll([
      { key: 'a', value: 1, version: 1, updatedAt: '', updatedBy: '' },
      { key: 'b', value: 1, version: 1, updatedAt: '', updatedBy: '' },
      { key: 'n', value: 'new', version: 9, updatedAt: '', updatedBy: '' },
    ]);

    const changes = store.replaceAll([
      { key: 'b', value: 2, version: 2, updatedAt: '', updatedBy: '' },
      { key: 'c', value: 1, version: 1, updatedAt: '', updatedBy: '' },
      { key: 'n', value: 'older', version: 8, updatedAt: '', updatedBy: '' },
    ]);

    expect(changes).toEqual([
      { key: 'a', value: undefined, version: 1, deleted: true, previous: { value: 1, version: 1 } },
      { key: 'b', value: 2, version: 2, deleted: false, previous: { value: 1, version: 1 } },
      { key: 'c', value: 1, version: 1, deleted: false },
    ]);
    expect(store.get('n')?.value).toBe('new');
    expect(store.keys()).toEqual(['b', 'c', 'n']);
  });

  it('property: any order and any duplication of a key history ends in the same state as in order', () => {
    // Each key: puts of versions 1..n, then maybe a delete carrying version n (what was removed).
    const history = fc.record({ n: fc.integer({ min: 1, max: 6 }), deleted: fc.boolean() });
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), history, { minKeys: 1, maxKeys: 5 }), fc.infiniteStream(fc.nat()), (histories, noise) => {
        const events: IncomingChange[] = [];
        for (const [key, { n, deleted }] of Object.entries(histories)) {
          for (let v = 1; v <= n; v++) events.push(put(key, `${key}@${v}`, v));
          if (deleted) events.push(del(key, n));
        }
        const it = noise[Symbol.iterator]();
        const shuffled = [...events, ...events.filter(() => it.next().value % 2 === 0)];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }

        const store = new ConfigStore();
        for (const e of shuffled) store.apply(e);

        for (const [key, { n, deleted }] of Object.entries(histories)) {
          expect(store.get(key)?.value).toBe(deleted ? undefined : `${key}@${n}`);
        }
      }),
    );
  });
});

describe('ConfigStore after a delete made behind the API (Parameter Store restarts versions)', () => {
  const at = (key: string, value: unknown, version: number, updatedAt: string, deleted = false): IncomingChange => ({
    key,
    value,
    version,
    deleted,
    updatedAt,
    updatedBy: 'u',
  });

  it('applies a re-created key written after the delete even with a lower version', () => {
    const store = new ConfigStore();
    store.apply(at('p', 'v5', 5, '2026-01-01T00:00:05Z'));
    store.apply(at('p', undefined, 5, '2026-01-01T00:00:06Z', true));
    const change = store.apply(at('p', 'new', 1, '2026-01-01T00:00:07.250Z'));
    expect(change).toMatchObject({ key: 'p', value: 'new', version: 1, deleted: false });
    expect(store.get('p')?.value).toBe('new');
  });

  it('still ignores a late copy of a write made before the delete', () => {
    const store = new ConfigStore();
    store.apply(at('p', 'v5', 5, '2026-01-01T00:00:05Z'));
    store.apply(at('p', undefined, 5, '2026-01-01T00:00:06Z', true));
    expect(store.apply(at('p', 'v4-late', 4, '2026-01-01T00:00:04Z'))).toBeUndefined();
    expect(store.apply(at('p', 'v5-dup', 5, '2026-01-01T00:00:05Z'))).toBeUndefined();
    expect(store.get('p')).toBeUndefined();
  });
});

describe('ConfigStore with layers (sources)', () => {
  const from = (source: string, change: IncomingChange): IncomingChange => ({ ...change, source });

  it('switches from the tenant’s own value to a default of a lower version, and back', () => {
    const store = new ConfigStore();
    store.apply(from('tenant', put('k', 'own', 7)));

    const fallback = store.apply(from('platform', put('k', 'default', 2)));
    const override = store.apply(from('tenant', put('k', 'own again', 8)));

    expect(fallback).toMatchObject({ value: 'default', version: 2, source: 'platform', previous: { value: 'own', version: 7 } });
    expect(override).toMatchObject({ value: 'own again', version: 8, source: 'tenant' });
    expect(store.get('k')).toMatchObject({ value: 'own again', source: 'tenant' });
  });

  it('still drops duplicates and older versions within one source', () => {
    const store = new ConfigStore();
    store.apply(from('segment:plan=gold', put('k', 'v5', 5)));

    expect(store.apply(from('segment:plan=gold', put('k', 'dup', 5)))).toBeUndefined();
    expect(store.apply(from('segment:plan=gold', put('k', 'old', 4)))).toBeUndefined();
    expect(store.get('k')?.value).toBe('v5');
  });

  it('lets a snapshot replace a held value of another source even at a lower version', () => {
    const store = new ConfigStore();
    store.apply(from('tenant', put('k', 'own', 9)));

    const changes = store.replaceAll([{ key: 'k', value: 'default', version: 1, updatedAt: 't', updatedBy: 'u', source: 'platform' }]);

    expect(changes).toMatchObject([{ key: 'k', value: 'default', version: 1, source: 'platform' }]);
  });

  it('holds one object per default for every store of a client, and lets it go when the last store drops it', () => {
    const shared = new SharedItems();
    const stores = Array.from({ length: 100 }, () => new ConfigStore(shared));
    for (const s of stores) s.apply(from('platform', put('k', { big: 'x'.repeat(100) }, 3)));
    stores[0].apply(from('tenant', put('k', 'own', 1)));

    expect(new Set(stores.slice(1).map((s) => s.get('k')))).toHaveProperty('size', 1);
    expect(shared.size).toBe(1);
    for (const s of stores.slice(1)) s.clear();
    expect(shared.size).toBe(0);
    expect(stores[0].get('k')?.value).toBe('own');
  });
});
