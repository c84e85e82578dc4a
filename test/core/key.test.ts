import fc from 'fast-check';
import { InvalidKeyError } from '../../core/errors';
import { MAX_NAME_LENGTH, MAX_NAME_SEGMENTS, keyMatchesPrefix, parseKey, parseKeyPrefix } from '../../core/key';

const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const name = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
const tag = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);

describe('parseKey', () => {
  it('accepts <tag>:<name> and splits it', () => {
    expect(parseKey('paramconfig:db/pool/max')).toEqual({ tag: 'paramconfig', name: 'db/pool/max', raw: 'paramconfig:db/pool/max' });
  });

  it.each([
    ['', /key is empty/],
    ['plan', /has no tag/],
    ['tenantconfig:', /empty name/],
    [':plan', /tag '' is malformed/],
    ['Tenant:plan', /tag 'Tenant' is malformed/],
    ['tenantconfig:..', /'\.\.' is not allowed/],
    ['tenantconfig:.', /'\.' is not allowed/],
    ['tenantconfig:a/../b', /'\.\.' is not allowed/],
    ['tenantconfig:a//b', /segment 2 of the name is empty/],
    ['tenantconfig:/a', /first segment of the name is empty/],
    ['tenantconfig:a/', /last segment \(trailing \/\) of the name is empty/],
    ['tenantconfig:a%2Fb', /character '%' \(U\+0025\) at position 2/],
    ['tenantconfig:a\u0000b', /control character U\+0000 at position 2/],
    ['tenantconfig:a\nb', /control character U\+000A/],
    ['tenantconfig:café', /character 'é' \(U\+00E9\) at position 4/],
    ['tenantconfig:a b', /character ' ' \(U\+0020\)/],
    ['tenantconfig:a:b', /character ':' \(U\+003A\)/],
    ['tenantconfig:😀', /character '😀' \(U\+1F600\) at position 1/],
    [`tenantconfig:${'a'.repeat(MAX_NAME_LENGTH + 1)}`, /maximum is 256/],
    [
      `tenantconfig:${Array(MAX_NAME_SEGMENTS + 1)
        .fill('a')
        .join('/')}`,
      /11 segments; the maximum is 10/,
    ],
  ])('rejects %j saying what is wrong', (raw, message) => {
    expect(() => parseKey(raw)).toThrow(InvalidKeyError);
    expect(() => parseKey(raw)).toThrow(message);
  });

  it('round-trips every well-formed key (property)', () => {
    fc.assert(
      fc.property(tag, name, (t, n) => {
        const key = parseKey(`${t}:${n}`);
        expect(key).toEqual({ tag: t, name: n, raw: `${t}:${n}` });
      }),
    );
  });

  it('throws only InvalidKeyError for any string, and accepted keys obey the grammar (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (raw) => {
        let key;
        try {
          key = parseKey(raw);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidKeyError);
          return;
        }
        expect(key.raw).toBe(raw);
        expect(key.name.split('/').every((s) => /^[A-Za-z0-9_.-]+$/.test(s) && s !== '.' && s !== '..')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseKeyPrefix', () => {
  it('accepts a bare tag and partial names', () => {
    expect(parseKeyPrefix('tenantconfig:')).toEqual({ tag: 'tenantconfig', namePrefix: '', raw: 'tenantconfig:' });
    expect(parseKeyPrefix('paramconfig:db/')).toMatchObject({ namePrefix: 'db/' });
    expect(parseKeyPrefix('paramconfig:db/po')).toMatchObject({ namePrefix: 'db/po' });
  });

  it.each(['tenantconfig', 'paramconfig://', 'paramconfig:../x', 'paramconfig:a%2F'])('rejects %j', (raw) => {
    expect(() => parseKeyPrefix(raw)).toThrow(InvalidKeyError);
  });

  it('matches keys by tag and name prefix', () => {
    const prefix = parseKeyPrefix('paramconfig:db/po');
    expect(keyMatchesPrefix(parseKey('paramconfig:db/pool/max'), prefix)).toBe(true);
    expect(keyMatchesPrefix(parseKey('paramconfig:dbx'), prefix)).toBe(false);
    expect(keyMatchesPrefix(parseKey('tenantconfig:db/pool'), prefix)).toBe(false);
  });
});
