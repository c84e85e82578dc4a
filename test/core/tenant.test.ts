import fc from 'fast-check';
import { InvalidTenantError } from '../../core/errors';
import { parseTenantId } from '../../core/tenant';

describe('parseTenantId', () => {
  it.each(['acme', 'ACME-01', 'a', 't_1', 'x'.repeat(64)])('accepts %j', (raw) => {
    expect(parseTenantId(raw)).toBe(raw);
  });

  it.each([
    [undefined, /no tenant claim/],
    [null, /no tenant claim/],
    ['', /no tenant claim/],
    [42, /no tenant claim/],
    [['acme'], /no tenant claim/],
    ['a/b', /malformed/],
    ['a#b', /malformed/],
    ['a:b', /malformed/],
    ['-acme', /malformed/],
    [' acme', /malformed/],
    ['acme\n', /malformed/],
    ['x'.repeat(65), /malformed/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseTenantId(raw)).toThrow(InvalidTenantError);
    expect(() => parseTenantId(raw)).toThrow(message);
  });

  it('never accepts a string holding a path, key or sort-key separator (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('/', '#', ':', '\u0000', ' '), fc.string(), (a, sep, b) => {
        expect(() => parseTenantId(`${a}${sep}${b}`)).toThrow(InvalidTenantError);
      }),
    );
  });
});
