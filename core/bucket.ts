/**
 * Stable buckets for rollouts and flags (docs/design.md §8.3): the same inputs give the same
 * bucket in the API, the fanout and the SDK, on any machine and in any release. MurmurHash3
 * (x86, 32-bit, seed 0) of the UTF-8 bytes, as Unleash buckets its gradual rollouts: fast, well
 * spread, and specified byte for byte, so a bucket never depends on a library's version.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

/** MurmurHash3 x86_32 of a string's UTF-8 bytes, unsigned. */
export function murmur3(text: string, seed = 0): number {
  const bytes = encoder.encode(text);
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A bucket in 0..(size - 1) for these parts, joined with ':' (a key and a tenant, a flag and a targeting key). */
export function bucketOf(parts: readonly string[], size: number): number {
  return murmur3(parts.join(':')) % size;
}

/**
 * A tenant's bucket in a rollout of `key`, 0–99: it sees the new value once its bucket is below
 * the current wave's percent, so a wave of 10 % holds the tenants of buckets 0–9, and every
 * later wave holds them still.
 */
export const rolloutBucket = (key: string, tenant: string): number => bucketOf([key, tenant], 100);
