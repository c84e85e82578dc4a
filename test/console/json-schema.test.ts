/**
 * The console's in-page schema check agrees with ajv (what the API runs) on the tag schemas of
 * registry/tags.json: every value either accepts, the other accepts too.
 */
import Ajv from 'ajv';
import fc from 'fast-check';
import registry from '../../registry/tags.json';
import { validateJson, type JsonSchema } from '../../console/src/schema/json-schema';
import { lineDiff, prettyLines } from '../../console/src/diff/line-diff';

const schemas = Object.entries(registry.tags as Record<string, { schema?: JsonSchema }>).filter(([, t]) => t.schema !== undefined);

const FLAG_SAMPLES: unknown[] = [
  true,
  false,
  { enabled: true },
  { enabled: 'yes' },
  { enabled: true, rolloutPercent: 20 },
  { enabled: true, rolloutPercent: 101 },
  { enabled: true, rolloutPercent: 2.5 },
  { enabled: true, extra: 1 },
  { rolloutPercent: 5 },
  { enabled: true, variants: [{ name: 'a', value: 1, weight: 1 }] },
  { enabled: true, variants: [{ name: 'bad name!', value: 1 }] },
  { enabled: true, variants: [] },
  { enabled: false, rules: [{ when: [{ attribute: 'plan', op: 'in', values: ['gold'] }], serve: { variant: 'a' } }] },
  { enabled: false, rules: [{ when: [{ attribute: 'plan', op: 'like', values: ['gold'] }] }] },
  null,
  'on',
  [true],
];

describe('console schema check (console/src/schema/json-schema.ts)', () => {
  it.each(schemas)('agrees with ajv on tag %s', (_tag, definition) => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(definition.schema as object);
    for (const value of FLAG_SAMPLES) expect([value, validateJson(definition.schema!, value).length === 0]).toEqual([value, validate(value)]);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => (validateJson(definition.schema!, value).length === 0) === validate(value)),
      { numRuns: 300 },
    );
  });

  it('names the field of the branch meant: a wrong member type in an object flag', () => {
    const flags = (registry.tags as Record<string, { schema?: JsonSchema }>).flags.schema!;
    expect(validateJson(flags, { enabled: 'yes' })).toEqual([{ path: '/enabled', message: 'must be boolean', keyword: 'type' }]);
  });
});

describe('side-by-side line diff (console/src/diff/line-diff.ts)', () => {
  it('pairs changed lines and keeps the common ones', () => {
    const rows = lineDiff(prettyLines({ tier: 'silver', seats: 10 }), prettyLines({ tier: 'gold', seats: 10, extra: true }));
    expect(rows.map((r) => r.kind)).toEqual(['same', 'changed', 'changed', 'added', 'same']);
  });

  it('rebuilds both sides from its rows', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd')), fc.array(fc.constantFrom('a', 'b', 'c', 'd')), (left, right) => {
        const rows = lineDiff(left, right);
        expect(rows.flatMap((r) => ('left' in r ? [r.left] : []))).toEqual(left);
        expect(rows.flatMap((r) => ('right' in r ? [r.right] : []))).toEqual(right);
      }),
    );
  });
});
