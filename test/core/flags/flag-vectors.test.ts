import { bucketOf } from '../../../core/bucket';
import { evaluateFlag, FLAG_BUCKETS } from '../../../core/flags/evaluate-flag';
import { FLAG_VECTORS, withoutMessage } from '../../support/flag-vectors';

describe('flag vectors in core (test/fixtures/flag-vectors.json)', () => {
  it('cover every reason and every error code a flag value and context can cause', () => {
    const reasons = new Set(FLAG_VECTORS.map((v) => v.expected.reason));
    const codes = new Set(FLAG_VECTORS.map((v) => v.expected.errorCode).filter(Boolean));

    expect([...reasons].sort()).toEqual(['DEFAULT', 'DISABLED', 'ERROR', 'SPLIT', 'STATIC', 'TARGETING_MATCH']);
    // GENERAL is an evaluator fault, not an input: tested below with a context that throws.
    expect([...codes].sort()).toEqual(['FLAG_NOT_FOUND', 'INVALID_CONTEXT', 'PARSE_ERROR', 'TARGETING_KEY_MISSING', 'TYPE_MISMATCH']);
    expect(FLAG_VECTORS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(FLAG_VECTORS.map((v) => [v.description, v] as const))('%s', (_name, vector) => {
    const result = evaluateFlag(vector.flag, vector.value, {
      tenantId: vector.tenantId,
      tenantAttributes: vector.tenantAttributes,
      context: vector.context,
      expectedType: vector.expectedType,
    });

    expect(withoutMessage(result)).toEqual(vector.expected);
    if (result.reason === 'ERROR') expect(result.errorMessage).toEqual(expect.any(String));
  });

  it('records the bucket of every split, as bucketOf([flag, targetingKey], 10000) computes it', () => {
    const splits = FLAG_VECTORS.filter((v) => v.expected.reason === 'SPLIT');

    for (const v of splits) {
      const key = (v.context?.targetingKey as string | undefined) || (v.tenantId as string);
      expect(bucketOf([v.flag, key], FLAG_BUCKETS)).toBe(v.bucket);
    }
    expect(splits.length).toBeGreaterThan(10);
  });
});

describe('evaluateFlag beyond the vectors', () => {
  it('a rolloutPercent of 30 holds 30 % of 20,000 targeting keys (±1 %)', () => {
    let on = 0;
    for (let i = 0; i < 20_000; i++)
      if (evaluateFlag('checkout', { enabled: true, rolloutPercent: 30 }, { context: { targetingKey: `user-${i}` } }).value === true) on++;

    expect(Math.abs(on / 20_000 - 0.3)).toBeLessThan(0.01);
  });

  it('weights 1:3 split 20,000 keys 25 % / 75 % (±1 %), and raising a percentage only adds keys', () => {
    const flag = {
      enabled: true,
      variants: [
        { name: 'a', value: 'a', weight: 1 },
        { name: 'b', value: 'b', weight: 3 },
      ],
    };
    let a = 0;
    let lost = 0;
    for (let i = 0; i < 20_000; i++) {
      const context = { targetingKey: `user-${i}` };
      if (evaluateFlag('theme', flag, { context }).variant === 'a') a++;
      const at10 = evaluateFlag('f', { enabled: true, rolloutPercent: 10 }, { context }).value;
      const at20 = evaluateFlag('f', { enabled: true, rolloutPercent: 20 }, { context }).value;
      if (at10 === true && at20 !== true) lost++;
    }

    expect(Math.abs(a / 20_000 - 0.25)).toBeLessThan(0.01);
    expect(lost).toBe(0);
  });

  it('a fault inside evaluation is GENERAL, never a throw', () => {
    const context = new Proxy({} as Record<string, unknown>, {
      get(_t, p) {
        if (p === 'country') throw new Error('context exploded');
        return undefined;
      },
      has: () => true,
      getOwnPropertyDescriptor: () => ({ configurable: true, enumerable: true, value: undefined }),
    });
    const flag = { enabled: true, rules: [{ when: [{ attribute: 'country', op: 'in', values: ['DE'] }], serve: { variant: 'off' } }] };

    const result = evaluateFlag('f', flag, { tenantId: 'acme', context });

    expect(result).toEqual({ reason: 'ERROR', errorCode: 'GENERAL', errorMessage: 'context exploded' });
  });
});
