/** The pure parts of the change log and the version guard: shard hash, cursor order, trim rule, ordering rule, settings. */
import fc from 'fast-check';
import { InvalidCursorError, compareStreamIds, encodeCursor, isTrimmed, parseCursor, shardOf, type ShardLogState } from '../../core/change-log';
import { InvalidRequestError } from '../../core/errors';
import { judgeChange, type VersionStamp } from '../../core/versioned-cache';

describe('shardOf', () => {
  it('is 32-bit FNV-1a of the UTF-8 tenant id, modulo the shard count', () => {
    // Published FNV-1a test vectors.
    expect(shardOf('', 2 ** 31)).toBe(0x811c9dc5 % 2 ** 31);
    expect(shardOf('a', 1024)).toBe(0xe40c292c % 1024);
    expect(shardOf('foobar', 1000)).toBe(0xbf9cf968 % 1000);
  });

  it('stays in range and spreads tenants evenly', () => {
    fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (t, n) => shardOf(t, n) >= 0 && shardOf(t, n) < n));
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`tenant-${i}`, 16)] += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});

describe('cursors', () => {
  it('refuses anything but c1.<shard>.<epoch>.<ms>-<seq>, with a 400-class error', () => {
    const bad = [
      '',
      'c1',
      'c2.0.aaaaaaaaaaaa.1-0',
      'c1.00.aaaaaaaaaaaa.1-0',
      'c1.0.AAAAAAAAAAAA.1-0',
      'c1.0.aaaaaaaaaaa.1-0',
      'c1.0.aaaaaaaaaaaa.01-0',
      'c1.0.aaaaaaaaaaaa.1',
      'c1.0.aaaaaaaaaaaa.1-0 ',
      ' c1.0.aaaaaaaaaaaa.1-0',
      'c1.16.aaaaaaaaaaaa.1-0',
      'c1.0.aaaaaaaaaaaa.18446744073709551616-0',
      `c1.0.aaaaaaaaaaaa.1-${'1'.repeat(60)}`,
    ];
    for (const raw of bad) {
      const error = (() => {
        try {
          parseCursor(raw, 16);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidCursorError);
      expect(error).toBeInstanceOf(InvalidRequestError);
    }
    expect(() => parseCursor(42 as unknown as string, 16)).toThrow(InvalidCursorError);
  });

  it('never throws anything else for any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('c', '1', '.', '-', '0', 'a', 'f', '9') })), (raw) => {
        try {
          const c = parseCursor(raw, 16);
          return encodeCursor(c.shard, c.epoch, c.id) === raw;
        } catch (e) {
          return e instanceof InvalidCursorError;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('orders stream ids numerically, past 2^53', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-2', '10-10')).toBe(-1);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBe(1);
    expect(compareStreamIds('5-5', '5-5')).toBe(0);
  });
});

describe('isTrimmed', () => {
  const c = (id: string, epoch = 'aaaaaaaaaaaa') => parseCursor(encodeCursor(0, epoch, id), 1);
  const state = (s: Partial<ShardLogState>): ShardLogState => ({ epoch: 'aaaaaaaaaaaa', lastId: '100-0', firstId: '10-0', removed: 0, ...s });

  it.each([
    ['nothing was ever trimmed', c('5-0'), state({}), false],
    ['the cursor is at the first entry held', c('10-0'), state({ removed: 3 }), false],
    ['the cursor is after the first entry held', c('50-0'), state({ removed: 3 }), false],
    ['entries before the first held were trimmed', c('9-0'), state({ removed: 3 }), true],
    ['the beginning cursor after trimming', c('0-0'), state({ removed: 1 }), true],
    ['another incarnation of the log', c('50-0', 'bbbbbbbbbbbb'), state({}), true],
    ['a cursor past the newest entry', c('101-0'), state({}), true],
  ])('%s → %s', (_name, cursor, s, trimmed) => {
    expect(isTrimmed(cursor, s)).toBe(trimmed);
  });
});

describe('judgeChange', () => {
  const v = (version: number, modifiedAtMs?: number): VersionStamp => ({ kind: 'value', version, modifiedAtMs });
  const t = (version: number, modifiedAtMs?: number): VersionStamp => ({ kind: 'tombstone', version, modifiedAtMs });

  it.each([
    ['anything over nothing', undefined, v(1), 'wins'],
    ['a higher version', v(2), v(3), 'wins'],
    ['the same version', v(3), v(3), 'loses'],
    ['a lower version', v(3), v(2), 'loses'],
    ['a tombstone at the same version', v(3), t(3), 'wins'],
    ['a value at the tombstone version', t(3), v(3), 'loses'],
    ['a value above the tombstone version', t(3), v(4), 'wins'],
    ['a later re-created value, version restarted', t(7, 100), v(1, 200), 'wins'],
    ['an earlier value under a later tombstone', t(7, 100), v(9, 50), 'loses'],
    ['a delete older than the value', v(1, 200), t(7, 100), 'loses'],
    ['a delete at the instant of the value', v(1, 200), t(1, 200), 'wins'],
    ['a later delete of a deleted key', t(1, 200), t(1, 300), 'touch'],
    ['an earlier delete of a deleted key', t(1, 300), t(5, 200), 'loses'],
    ['a later value of a new incarnation', v(5, 100), v(1, 200), 'wins'],
    ['two values at one instant: versions decide', v(5, 100), v(6, 100), 'wins'],
    ['one side without a time: versions decide', v(5, 100), v(1), 'loses'],
  ])('%s', (_name, held, incoming, verdict) => {
    expect(judgeChange(held, incoming)).toBe(verdict);
  });
});
