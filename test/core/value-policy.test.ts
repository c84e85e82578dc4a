import { InvalidValueError, ValueTooLargeError } from '../../core/errors';
import { TagRegistry } from '../../core/tag-registry';
import { checkValue, valueBytes } from '../../core/value-policy';

const registry = TagRegistry.default();

describe('checkValue', () => {
  it('measures values in UTF-8 bytes of their JSON text', () => {
    expect(valueBytes('é')).toBe(4); // quotes + 2 bytes
    expect(valueBytes({ a: 1 })).toBe(7);
  });

  it('accepts a value exactly at the limit and refuses one byte more with 413', () => {
    const tag = registry.resolve('paramconfig');
    const atLimit = 'x'.repeat(tag.maxValueBytes - 2);
    expect(() => checkValue(tag, atLimit)).not.toThrow();
    expect(() => checkValue(tag, `${atLimit}x`)).toThrow(ValueTooLargeError);
    expect(() => checkValue(tag, `${atLimit}x`)).toThrow(`value is ${tag.maxValueBytes + 1} bytes; tag 'paramconfig' allows at most ${tag.maxValueBytes}`);
  });

  it("enforces a tag's JSON schema and says where it failed", () => {
    const flags = registry.resolve('flags');
    expect(() => checkValue(flags, true)).not.toThrow();
    expect(() => checkValue(flags, { enabled: true, rolloutPercent: 30 })).not.toThrow();
    expect(() => checkValue(flags, { enabled: true, rolloutPercent: 130 })).toThrow(InvalidValueError);
    expect(() => checkValue(flags, 'yes')).toThrow(/does not match the schema of tag 'flags'/);
  });
});
