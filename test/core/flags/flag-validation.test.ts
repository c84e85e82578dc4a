/** A flag value is checked on PUT by the tag's JSON schema, then by parseFlag's semantic checks: each refusal says exactly why. */
import { InvalidValueError } from '../../../core/errors';
import { parseFlag } from '../../../core/flags/flag-model';
import { TagRegistry } from '../../../core/tag-registry';
import { checkValue } from '../../../core/value-policy';

const flags = TagRegistry.default().resolve('flags');
const variants = [
  { name: 'blue', value: 'blue', weight: 1 },
  { name: 'green', value: { shade: 2 }, weight: 1 },
];

describe('flag values on PUT', () => {
  it.each<[string, unknown]>([
    ['true', true],
    ['false', false],
    ['{enabled}', { enabled: true }],
    ['{enabled, rolloutPercent}', { enabled: false, rolloutPercent: 30 }],
    ['weighted variants', { enabled: true, variants }],
    ['variants with a default and no weights', { enabled: true, variants: [{ name: 'a', value: 1 }], defaultVariant: 'a' }],
    [
      'rules on tenant and context attributes',
      {
        enabled: true,
        variants,
        offVariant: 'blue',
        rules: [
          {
            when: [
              { attribute: 'tenant.plan', op: 'in', values: ['gold'] },
              { attribute: 'seats', op: 'gte', values: [10] },
            ],
            serve: { variant: 'green' },
          },
        ],
      },
    ],
    [
      'a boolean flag with a rule',
      { enabled: true, rolloutPercent: 5, rules: [{ when: [{ attribute: 'targetingKey', op: 'starts_with', values: ['staff-'] }], serve: { variant: 'on' } }] },
    ],
  ])('accepts %s', (_what, value) => {
    expect(() => checkValue(flags, value as never)).not.toThrow();
    expect(parseFlag(value).ok).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'duplicate variant names',
      {
        enabled: true,
        variants: [
          { name: 'a', value: 1, weight: 1 },
          { name: 'a', value: 2, weight: 1 },
        ],
      },
      /variants\[1\]\.name "a" is used by another variant/,
    ],
    ['weights summing to 0', { enabled: true, variants: [{ name: 'a', value: 1, weight: 0 }] }, /weights must sum to more than 0/],
    [
      'a rule naming a missing variant',
      { enabled: true, variants, rules: [{ when: [{ attribute: 'tenant.plan', op: 'in', values: ['gold'] }], serve: { variant: 'red' } }] },
      /rules\[0\]\.serve names variant "red", which is not one of blue, green/,
    ],
    ['an offVariant naming a missing variant', { enabled: true, variants, offVariant: 'red' }, /"offVariant" names variant "red"/],
    ['a defaultVariant naming a missing variant', { enabled: true, defaultVariant: 'on', variants }, /"defaultVariant" names variant "on"/],
    ['rolloutPercent with variants', { enabled: true, rolloutPercent: 10, variants }, /"rolloutPercent" is for boolean flags/],
    [
      'a numeric op with two values',
      { enabled: true, rules: [{ when: [{ attribute: 'seats', op: 'gt', values: [1, 2] }], serve: { variant: 'on' } }] },
      /"gt" takes exactly one number/,
    ],
    [
      'a numeric op with a string',
      { enabled: true, rules: [{ when: [{ attribute: 'seats', op: 'gt', values: ['1'] }], serve: { variant: 'on' } }] },
      /"gt" compares numbers/,
    ],
  ])('refuses %s with 400 invalid-value saying why', (_what, value, why) => {
    expect(() => checkValue(flags, value as never)).toThrow(InvalidValueError);
    expect(() => checkValue(flags, value as never)).toThrow(why);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'an unknown op',
      { enabled: true, rules: [{ when: [{ attribute: 'a', op: 'regex', values: ['x'] }], serve: { variant: 'on' } }] },
      /op must be equal to one of the allowed values/,
    ],
    ['an empty when', { enabled: true, rules: [{ when: [], serve: { variant: 'on' } }] }, /when must NOT have fewer than 1 items/],
    ['a negative weight', { enabled: true, variants: [{ name: 'a', value: 1, weight: -1 }] }, /weight must be >= 0/],
    ['a variant without a value', { enabled: true, variants: [{ name: 'a', weight: 1 }] }, /must have required property 'value'/],
    [
      'a malformed attribute',
      { enabled: true, rules: [{ when: [{ attribute: 'tenant.', op: 'in', values: ['x'] }], serve: { variant: 'on' } }] },
      /attribute must match pattern/,
    ],
  ])("refuses %s by the tag's schema, and the parser agrees", (_what, value, why) => {
    expect(() => checkValue(flags, value as never)).toThrow(why);
    expect(parseFlag(value).ok).toBe(false);
  });

  it('a 4 KB flag is accepted; more is 413', () => {
    const big = (n: number) => ({ enabled: true, variants: [{ name: 'a', value: 'x'.repeat(n), weight: 1 }] });
    const overhead = JSON.stringify(big(0)).length;

    expect(() => checkValue(flags, big(4096 - overhead))).not.toThrow();
    expect(() => checkValue(flags, big(4097 - overhead))).toThrow(/allows at most 4096/);
  });
});
