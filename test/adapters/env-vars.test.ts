import fc from 'fast-check';
import {
  ConfigurationError,
  getBooleanFromEnv,
  getChoiceFromEnv,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
  getPathSegmentFromEnv,
  getStringFromEnv,
  getUrlFromEnv,
} from '../../adapters/environment/env-vars';

describe('env-vars: one way to read a setting, failing with its name', () => {
  it('strings: trimmed, blank counts as unset, a default fills in, a missing required one is named', () => {
    expect(getStringFromEnv({ A: '  x ' }, { key: 'A' })).toBe('x');
    expect(getOptionalStringFromEnv({ A: '   ' }, { key: 'A' })).toBeUndefined();
    expect(getStringFromEnv({}, { key: 'A', defaultValue: 'd' })).toBe('d');
    expect(() => getStringFromEnv({}, { key: 'A' })).toThrow(new ConfigurationError('A', 'is not set'));
  });

  it('strings with a pattern say what was expected and show (a bounded part of) what was given', () => {
    const read = () => getStringFromEnv({ CLAIM: 'a b' }, { key: 'CLAIM', pattern: /^\S+$/, what: 'a claim name' });

    expect(read).toThrow("CLAIM must be a claim name, got 'a b'");
    expect(() => getStringFromEnv({ A: 'x'.repeat(500) }, { key: 'A', pattern: /^y$/ })).toThrow(/got 'x{64}'$/);
  });

  it('integers: in range or refused with the range', () => {
    expect(getIntegerFromEnv({ N: '42' }, { key: 'N', min: 1, max: 100, defaultValue: 7 })).toBe(42);
    expect(getIntegerFromEnv({}, { key: 'N', min: 1, max: 100, defaultValue: 7 })).toBe(7);
    for (const bad of ['0', '101', '-1', '1.5', '1e2', 'ten', '0x10']) {
      expect(() => getIntegerFromEnv({ N: bad }, { key: 'N', min: 1, max: 100, defaultValue: 7 })).toThrow('N must be an integer from 1 to 100');
    }
  });

  it('accepts exactly the integers in range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), (n) => {
        const read = () => getIntegerFromEnv({ N: String(n) }, { key: 'N', min: 0, max: 500, defaultValue: 1 });
        if (n >= 0 && n <= 500) expect(read()).toBe(n);
        else expect(read).toThrow(ConfigurationError);
      }),
    );
  });

  it("booleans are 'true' or 'false', nothing looser", () => {
    expect(getBooleanFromEnv({ B: 'true' }, { key: 'B', defaultValue: false })).toBe(true);
    expect(getBooleanFromEnv({}, { key: 'B', defaultValue: true })).toBe(true);
    for (const bad of ['yes', '1', 'TRUE', 'on'])
      expect(() => getBooleanFromEnv({ B: bad }, { key: 'B', defaultValue: false })).toThrow(/B must be 'true' or 'false'/);
  });

  it('choices list the words allowed', () => {
    expect(getChoiceFromEnv({ M: 'off' }, { key: 'M', choices: ['emf', 'off'], defaultValue: 'emf' })).toBe('off');
    expect(() => getChoiceFromEnv({ M: 'both' }, { key: 'M', choices: ['emf', 'off'], defaultValue: 'emf' })).toThrow("M must be emf, off, got 'both'");
  });

  it('path segments forgive surrounding slashes and refuse inner ones', () => {
    expect(getPathSegmentFromEnv({ ROOT: '/tenant-config/' }, 'ROOT')).toBe('tenant-config');
    expect(() => getPathSegmentFromEnv({ ROOT: 'a/b' }, 'ROOT')).toThrow(/ROOT must be one path segment/);
    expect(() => getPathSegmentFromEnv({ ROOT: '//' }, 'ROOT')).toThrow('ROOT is not set');
  });

  it('URLs must be http(s)', () => {
    expect(getUrlFromEnv({ U: 'https://example.com/x' }, { key: 'U', required: true })).toBe('https://example.com/x');
    expect(getUrlFromEnv({}, { key: 'U' })).toBeUndefined();
    for (const bad of ['ftp://h', 'not a url', 'file:///etc/passwd'])
      expect(() => getUrlFromEnv({ U: bad }, { key: 'U' })).toThrow(/U must be an http\(s\) URL/);
  });
});
