/** The credentials file: where it lives, mode 0600 in a 0700 directory, profiles, and refresh when a token expires. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REFRESH_MARGIN_MS,
  credentialsPath,
  currentToken,
  expiryOf,
  readCredentials,
  removeProfile,
  saveProfile,
  type Credential,
} from '../../packages/cli/src/credentials';
import { CliError } from '../../packages/cli/src/errors';

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

describe('credentials file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-creds-'));
    file = join(dir, 'cfg', 'tenant-config', 'credentials.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const user = (expiresAt: number, extra: Partial<Credential> = {}): Credential =>
    ({
      kind: 'cognito-user',
      region: 'eu-west-1',
      clientId: 'app',
      username: 'alice',
      refreshToken: 'r1',
      accessToken: 'a1',
      expiresAt,
      ...extra,
    }) as Credential;

  it('lives under $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(credentialsPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe('/x/cfg/tenant-config/credentials.json');
    expect(credentialsPath({ HOME: '/home/u' })).toBe('/home/u/.config/tenant-config/credentials.json');
    expect(credentialsPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.config/tenant-config/credentials.json');
  });

  it('is written with mode 0600 in a 0700 directory, even over a wider file', () => {
    saveProfile(file, 'default', user(Date.now() + 3600_000));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cfg', 'tenant-config')).mode & 0o777).toBe(0o700);
    chmodSync(file, 0o644);
    saveProfile(file, 'other', user(Date.now() + 3600_000));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(readCredentials(file).profiles)).toEqual(['default', 'other']);
  });

  it('keeps profiles apart and removes one or all', () => {
    saveProfile(file, 'a', user(1));
    saveProfile(file, 'b', user(2));
    expect(removeProfile(file, 'a')).toBe(true);
    expect(removeProfile(file, 'a')).toBe(false);
    expect(Object.keys(readCredentials(file).profiles)).toEqual(['b']);
    expect(removeProfile(file, undefined)).toBe(true);
    expect(readCredentials(file).profiles).toEqual({});
  });

  it('reads a missing file as empty and refuses a foreign one', () => {
    expect(readCredentials(join(dir, 'none.json'))).toEqual({ version: 1, profiles: {} });
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, '{"aws": true}');
    expect(() => readCredentials(foreign)).toThrow(/not a credentials file of tenant-config/);
  });

  it('returns a token with more than a minute left as it is, without refreshing', async () => {
    const now = 1_000_000;
    saveProfile(file, 'default', user(now + REFRESH_MARGIN_MS + 1));
    const refresh = jest.fn();
    await expect(currentToken(file, 'default', refresh, () => now)).resolves.toMatchObject({ token: 'a1' });
    expect(refresh).not.toHaveBeenCalled();
  });

  it('refreshes a token about to expire, saves the new one (and a rotated refresh token), still 0600', async () => {
    const now = 1_000_000;
    saveProfile(file, 'default', user(now + 30_000));
    const refresh = jest.fn(async () => ({ accessToken: 'a2', expiresAt: now + 3600_000, refreshToken: 'r2' }));
    await expect(currentToken(file, 'default', refresh, () => now)).resolves.toMatchObject({ token: 'a2' });
    expect(refresh).toHaveBeenCalledWith(expect.objectContaining({ refreshToken: 'r1' }));
    const stored = JSON.parse(readFileSync(file, 'utf8')).profiles.default;
    expect(stored).toMatchObject({ accessToken: 'a2', expiresAt: now + 3600_000, refreshToken: 'r2', username: 'alice' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Now fresh: no second refresh.
    await currentToken(file, 'default', refresh, () => now);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('keeps the refresh token when the issuer does not rotate it', async () => {
    saveProfile(file, 'default', user(0));
    await currentToken(file, 'default', async () => ({ accessToken: 'a2', expiresAt: Date.now() + 3600_000 }));
    expect(readCredentials(file).profiles.default).toMatchObject({ accessToken: 'a2', refreshToken: 'r1' });
  });

  it('says to log in again when there is no profile or the refresh fails', async () => {
    await expect(currentToken(file, 'nobody', jest.fn())).rejects.toThrow(/no credentials for profile 'nobody'/);
    saveProfile(file, 'default', user(0));
    const failing = currentToken(file, 'default', async () => {
      throw new Error('NotAuthorizedException: Refresh Token has expired');
    });
    await expect(failing).rejects.toBeInstanceOf(CliError);
    await expect(
      currentToken(file, 'default', async () => {
        throw new Error('NotAuthorizedException: Refresh Token has expired');
      }),
    ).rejects.toThrow(/could not be refreshed \(NotAuthorizedException: Refresh Token has expired\): run tenant-config login again/);
  });

  it("reads a JWT's exp without verifying it", () => {
    expect(expiryOf(jwt({ exp: 1700000000 }), 5)).toBe(1700000000_000);
    expect(expiryOf(jwt({}), 5)).toBe(5);
    expect(expiryOf('garbage', 7)).toBe(7);
  });
});
