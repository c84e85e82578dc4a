import { InvalidRequestError } from '../../../core/errors';
import { formatEtag, noneMatchHolds, parseIfMatch, parseIfNoneMatch } from '../../../lambda/config-api/etag';

describe('ETags and conditional headers', () => {
  it('formats a version as a strong ETag', () => {
    expect(formatEtag(12)).toBe('"12"');
  });

  it.each<[string | undefined, ReturnType<typeof parseIfMatch>]>([
    [undefined, { kind: 'none' }],
    ['"1"', { kind: 'version', version: 1 }],
    [' "42" ', { kind: 'version', version: 42 }],
    ['*', { kind: 'exists' }],
  ])('If-Match %p', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected);
  });

  it.each(['', '1', '"0"', '"01"', '"-1"', '"1.0"', 'W/"1"', '"1", "2"', '"1', "'1'", '"9007199254740993"'])('If-Match %p is malformed', (header) => {
    expect(() => parseIfMatch(header)).toThrow(InvalidRequestError);
  });

  it.each<[string, ReturnType<typeof parseIfNoneMatch>]>([
    ['*', { kind: 'any' }],
    ['"3"', { kind: 'tags', tags: ['3'] }],
    ['W/"3", "4",W/"x"', { kind: 'tags', tags: ['3', '4', 'x'] }],
    ['"a,b"', { kind: 'tags', tags: ['a,b'] }],
  ])('If-None-Match %p', (header, expected) => {
    expect(parseIfNoneMatch(header)).toEqual(expected);
  });

  it.each(['', '3', '"3" "4"', '"3', 'W/3', ', "3"', '"a"b"'])('If-None-Match %p is malformed', (header) => {
    expect(() => parseIfNoneMatch(header)).toThrow(InvalidRequestError);
  });

  it('compares weakly for If-None-Match', () => {
    expect(noneMatchHolds(parseIfNoneMatch('W/"3"'), 3)).toBe(false);
    expect(noneMatchHolds(parseIfNoneMatch('"2", "4"'), 3)).toBe(true);
    expect(noneMatchHolds(parseIfNoneMatch('*'), 3)).toBe(false);
    expect(noneMatchHolds(parseIfNoneMatch(undefined), 3)).toBe(true);
  });
});
