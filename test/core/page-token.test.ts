import fc from 'fast-check';
import { InvalidPageTokenError } from '../../core/errors';
import { PageTokenCodec } from '../../core/page-token';

const codec = new PageTokenCodec('a-test-secret-of-enough-length');
const position = { tenant: 'acme', prefix: 'paramconfig:', tagIndex: 1, cursor: 'abc' };

describe('PageTokenCodec', () => {
  it('round-trips a position for the same tenant and prefix', () => {
    const token = codec.encode(position);
    expect(codec.decode(token, { tenant: 'acme', prefix: 'paramconfig:' })).toEqual(position);
  });

  it("refuses another tenant's token, another listing's token, and another secret's token", () => {
    const token = codec.encode(position);
    expect(() => codec.decode(token, { tenant: 'globex', prefix: 'paramconfig:' })).toThrow(InvalidPageTokenError);
    expect(() => codec.decode(token, { tenant: 'acme', prefix: '' })).toThrow(InvalidPageTokenError);
    expect(() => new PageTokenCodec('another-secret-of-enough-length').decode(token, { tenant: 'acme', prefix: 'paramconfig:' })).toThrow(
      InvalidPageTokenError,
    );
  });

  it('refuses any alteration of a valid token (property)', () => {
    const token = codec.encode(position);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCxyz019-_.'.split('')), (at, ch) => {
        fc.pre(token[at] !== ch);
        const forged = token.slice(0, at) + ch + token.slice(at + 1);
        expect(() => codec.decode(forged, { tenant: 'acme', prefix: 'paramconfig:' })).toThrow(InvalidPageTokenError);
      }),
    );
  });

  it('refuses arbitrary strings with a typed error only (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        expect(() => codec.decode(s, { tenant: 'acme', prefix: '' })).toThrow(InvalidPageTokenError);
      }),
    );
  });

  it('refuses a short secret at start', () => {
    expect(() => new PageTokenCodec('short')).toThrow(/at least 16/);
  });
});
