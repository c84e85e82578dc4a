/** Seeded randomness and a Zipf sampler: the same run gives the same key sequence. */

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws item indexes 0..n-1 with P(rank r) ∝ 1 / r^s. Ranks are mapped to items through a
 * seeded permutation, so the hot items are spread over tenants (and log shards) instead of
 * all belonging to tenant 0.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly itemOfRank: Uint32Array;

  constructor(
    readonly n: number,
    readonly s: number,
    private readonly random: () => number,
  ) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      total += 1 / Math.pow(r + 1, s);
      this.cdf[r] = total;
    }
    for (let r = 0; r < n; r++) this.cdf[r] /= total;
    this.itemOfRank = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.itemOfRank[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = this.itemOfRank[i];
      this.itemOfRank[i] = this.itemOfRank[j];
      this.itemOfRank[j] = t;
    }
  }

  /** Probability of the most popular item. */
  get topProbability(): number {
    return this.cdf[0];
  }

  next(): number {
    const u = this.random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return this.itemOfRank[lo];
  }
}
