import { ConfigClient } from '../../client';
import { ConfigClientOptionsError } from '../../client/errors';
import { resolveOptions } from '../../client/options';

const base = { grpcTarget: '127.0.0.1:50051', token: () => 't' };

describe('ConfigClient options', () => {
  it('defaults: backoff 250 ms to 60 s, grace 30 s, plaintext on loopback only', () => {
    const resolved = resolveOptions(base);

    expect(resolved).toMatchObject({ backoffBaseMs: 250, backoffCapMs: 60_000, staleAfterMs: 30_000, prefixes: [] });
    expect(resolved.credentials._isSecure()).toBe(false);
    expect(resolveOptions({ ...base, grpcTarget: 'config-watch.internal:443' }).credentials._isSecure()).toBe(true);
    expect(resolveOptions({ ...base, tls: true }).credentials._isSecure()).toBe(true);
  });

  it('recovery defaults: stream cap 4 s while HTTP answers, HTTP retried within 2 s; the lower cap is held under the long one', () => {
    expect(resolveOptions(base)).toMatchObject({ backoffCapWhileHttpUpMs: 4_000, httpRetryCapMs: 2_000, httpRefreshMs: 30_000 });
    expect(resolveOptions({ ...base, backoffCapMs: 1_000, staleAfterMs: 500 }).backoffCapWhileHttpUpMs).toBe(1_000);
    expect(() => new ConfigClient({ ...base, httpRetryCapMs: 0 })).toThrow(/httpRetryCapMs must be a positive number/);
    expect(() => new ConfigClient({ ...base, backoffCapWhileHttpUpMs: -1 })).toThrow(/backoffCapWhileHttpUpMs must be a positive number/);
  });

  it('rejects a grace that is not shorter than the backoff cap, naming both options', () => {
    expect(() => new ConfigClient({ ...base, staleAfterMs: 60_000 })).toThrow(ConfigClientOptionsError);
    expect(() => new ConfigClient({ ...base, staleAfterMs: 5_000, backoffCapMs: 5_000 })).toThrow(
      /staleAfterMs \(5000\) must be shorter than backoffCapMs \(5000\)/,
    );
  });

  it.each([
    [{ grpcTarget: '' }, /grpcTarget is required/],
    [{ token: 'not a function' as unknown as () => string }, /token must be a function/],
    [{ httpBaseUrl: 'not a url' }, /httpBaseUrl is not a URL/],
    [{ httpBaseUrl: 'ftp://x' }, /httpBaseUrl must be http\(s\)/],
    [{ backoffBaseMs: 0 }, /backoffBaseMs must be a positive number/],
    [{ backoffBaseMs: 500, backoffCapMs: 400, staleAfterMs: 100 }, /backoffCapMs \(400\) must not be below backoffBaseMs \(500\)/],
    [{ maxAuthRetries: -1 }, /maxAuthRetries must be a non-negative integer/],
    [{ prefixes: [1] as unknown as string[] }, /prefixes must be an array of strings/],
  ])('rejects %p', (override, expected) => {
    expect(() => new ConfigClient({ ...base, ...override })).toThrow(expected);
  });
});
