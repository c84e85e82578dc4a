import { bucketOf, murmur3, rolloutBucket } from '../../core/bucket';

describe('murmur3 (x86, 32-bit)', () => {
  // Published reference values of MurmurHash3_x86_32 (SMHasher), so the bucket of a tenant can never drift with a rewrite.
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['a', 0, 0x3c2569b2],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0, 0x43ed676a],
    ['hello', 0, 0x248bfa47],
    ['Hello, world!', 1234, 0xfaf6cdb3],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ])('murmur3(%j, %d) = %d', (text, seed, expected) => {
    expect(murmur3(text, seed)).toBe(expected);
  });
});

describe('rolloutBucket', () => {
  it('is in 0..99 and spreads 10,000 tenants evenly: each decile of buckets holds 1,000 ± 200', () => {
    const deciles = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const b = rolloutBucket('tenantconfig:limits', `tenant-${i}`);
      expect(Number.isInteger(b) && b >= 0 && b < 100).toBe(true);
      deciles[Math.floor(b / 10)] += 1;
    }
    for (const n of deciles) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });

  it('depends on the key, so different keys roll out to different first tenants', () => {
    const tenants = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const a = tenants.filter((t) => rolloutBucket('flags:a', t) < 10);
    const b = tenants.filter((t) => rolloutBucket('flags:b', t) < 10);
    expect(a).not.toEqual(b);
  });

  it('is bucketOf of key and tenant joined by a colon', () => {
    expect(rolloutBucket('k', 'acme')).toBe(bucketOf(['k', 'acme'], 100));
    expect(bucketOf(['k', 'acme'], 100)).toBe(murmur3('k:acme') % 100);
  });
});
