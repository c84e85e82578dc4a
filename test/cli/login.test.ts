/**
 * `tenant-config login` for AWS, as a child process: a Cognito user's password
 * (USER_PASSWORD_AUTH) against moto's user pools, with the SOFTWARE_TOKEN_MFA challenge answered
 * from stdin, and refreshed with the refresh token once expired; and client credentials against
 * a tiny local HTTP server standing in for the pool's OAuth token endpoint (moto has none).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CognitoIdpClient } from '../auth/cognito-idp-client';
import { describeIf, startMoto, type RunningServer } from '../support/servers';
import { cliEnv, runCli, type CliEnv } from './cli-process';

const REGION = 'us-east-1';
const PASSWORD = 'Corr3ct-Horse!';

function credentialsOf(home: string): any {
  const file = join(home, 'tenant-config', 'credentials.json');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Makes the stored token of `profile` look expired, so the next command refreshes it. */
function expire(home: string, profile: string): void {
  const file = join(home, 'tenant-config', 'credentials.json');
  const content = JSON.parse(readFileSync(file, 'utf8'));
  content.profiles[profile].expiresAt = Date.now() - 1000;
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
}

describeIf('moto_server')('login with a Cognito user password (moto)', () => {
  let moto: RunningServer;
  let idp: CognitoIdpClient;
  let dir: string;
  let at: CliEnv;
  let poolId: string;
  let clientId: string;

  beforeAll(async () => {
    moto = await startMoto();
    idp = new CognitoIdpClient(moto.endpoint, REGION);
    ({
      UserPool: { Id: poolId },
    } = await idp.call<{ UserPool: { Id: string } }>('CreateUserPool', { PoolName: 'cli' }));
    ({
      UserPoolClient: { ClientId: clientId },
    } = await idp.call<{ UserPoolClient: { ClientId: string } }>('CreateUserPoolClient', {
      UserPoolId: poolId,
      ClientName: 'cli',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }));
    for (const user of ['alice', 'bob']) {
      await idp.call('AdminCreateUser', { UserPoolId: poolId, Username: user, MessageAction: 'SUPPRESS' });
      await idp.call('AdminSetUserPassword', { UserPoolId: poolId, Username: user, Password: PASSWORD, Permanent: true });
    }
    dir = mkdtempSync(join(tmpdir(), 'cli-login-'));
    at = cliEnv(dir, join(dir, 'home'));
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const login = (user: string, extra: string[] = [], stdin?: string) =>
    runCli(['login', '--username', user, '--region', REGION, '--client-id', clientId, '--cognito-endpoint', moto.endpoint, ...extra], at, { stdin });

  it('logs in with the password from stdin, stores the tokens 0600, and refreshes with the refresh token', async () => {
    const res = await login('alice', ['--endpoint', 'https://api.example.com'], `${PASSWORD}\n`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/logged in \(cognito-user\) as profile default/);
    const stored = credentialsOf(join(dir, 'home')).profiles.default;
    expect(stored).toMatchObject({ kind: 'cognito-user', username: 'alice', clientId, endpoint: 'https://api.example.com' });
    expect(stored.refreshToken).toEqual(expect.any(String));
    const claims = JSON.parse(Buffer.from(stored.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ token_use: 'access', username: 'alice', client_id: clientId });
    expect(stored.expiresAt).toBe(claims.exp * 1000);

    const fresh = await runCli(['token'], at);
    expect(fresh.stdout.trim()).toBe(stored.accessToken);

    expire(join(dir, 'home'), 'default');
    const refreshed = await runCli(['token'], at);
    expect(refreshed.code).toBe(0);
    const after = credentialsOf(join(dir, 'home')).profiles.default;
    expect(refreshed.stdout.trim()).toBe(after.accessToken);
    expect(after.accessToken).not.toBe(stored.accessToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
    expect(after.refreshToken).toBe(stored.refreshToken);
  }, 60_000);

  it('answers the SOFTWARE_TOKEN_MFA challenge with a code asked on stdin', async () => {
    await idp.call('SetUserPoolMfaConfig', { UserPoolId: poolId, SoftwareTokenMfaConfiguration: { Enabled: true }, MfaConfiguration: 'OPTIONAL' });
    const auth = await idp.call<{ AuthenticationResult: { AccessToken: string } }>('AdminInitiateAuth', {
      UserPoolId: poolId,
      ClientId: clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: 'bob', PASSWORD },
    });
    await idp.call('AssociateSoftwareToken', { AccessToken: auth.AuthenticationResult.AccessToken });
    await idp.call('VerifySoftwareToken', { AccessToken: auth.AuthenticationResult.AccessToken, UserCode: '123456' });
    await idp.call('AdminSetUserMFAPreference', { UserPoolId: poolId, Username: 'bob', SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } });

    const res = await login('bob', ['--profile', 'bob'], `${PASSWORD}\n123456\n`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(credentialsOf(join(dir, 'home')).profiles.bob).toMatchObject({ kind: 'cognito-user', username: 'bob' });

    const noCode = await login('bob', ['--profile', 'bob2'], `${PASSWORD}\n`);
    expect(noCode.code).toBe(1);
    expect(noCode.stderr).toMatch(/Code from your authenticator app: no answer on stdin/);
  }, 60_000);

  it('exits 1 with Cognito’s reason on a wrong password, and 2 without --client-id', async () => {
    const wrong = await login('alice', ['--password', 'wrong', '--profile', 'x']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Cognito refused the login: NotAuthorizedException/);
    expect((await runCli(['login', '--username', 'alice', '--region', REGION], at)).code).toBe(2);
  }, 60_000);
});

describe('login with client credentials (a local token endpoint)', () => {
  let server: Server;
  let tokenUrl: string;
  let dir: string;
  let at: CliEnv;
  const requests: Array<{ authorization?: string; body: string }> = [];

  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => resolve(body));
    });

  beforeAll(async () => {
    server = createServer((req, res) => {
      void read(req).then((body) => {
        requests.push({ authorization: req.headers.authorization, body });
        const ok = req.headers.authorization === `Basic ${Buffer.from('billing:s3cret').toString('base64')}`;
        res.setHeader('content-type', 'application/json');
        if (!ok) {
          res.statusCode = 400;
          res.end(JSON.stringify({ error: 'invalid_client' }));
          return;
        }
        const exp = Math.floor(Date.now() / 1000) + 3600;
        const token = `h.${Buffer.from(JSON.stringify({ exp, n: requests.length, token_use: 'access' })).toString('base64url')}.s`;
        res.end(JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
    dir = mkdtempSync(join(tmpdir(), 'cli-cc-'));
    at = cliEnv(dir, join(dir, 'home'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts the grant with HTTP Basic client authentication, stores the token 0600, and asks again once expired', async () => {
    const res = await runCli(['login', '--token-url', tokenUrl, '--client-id', 'billing', '--scope', 'tenant-config/read', '-o', 'json'], at, {
      env: { TENANT_CONFIG_CLIENT_SECRET: 's3cret' },
    });
    expect(res.code).toBe(0);
    expect(res.json()).toMatchObject({ profile: 'default', kind: 'client-credentials' });
    expect(requests[0].body).toBe('grant_type=client_credentials&scope=tenant-config%2Fread');
    const stored = credentialsOf(join(dir, 'home')).profiles.default;
    expect(stored).toMatchObject({ kind: 'client-credentials', clientId: 'billing', tokenUrl });

    expect((await runCli(['token'], at)).stdout.trim()).toBe(stored.accessToken);
    expect(requests).toHaveLength(1);
    expire(join(dir, 'home'), 'default');
    const refreshed = await runCli(['token'], at);
    expect(requests).toHaveLength(2);
    expect(refreshed.stdout.trim()).not.toBe(stored.accessToken);
    expect(refreshed.stdout.trim()).toBe(credentialsOf(join(dir, 'home')).profiles.default.accessToken);
  }, 60_000);

  it('exits 1 with the endpoint’s error for a wrong secret, 2 without one', async () => {
    const wrong = await runCli(['login', '--token-url', tokenUrl, '--client-id', 'billing', '--client-secret', 'nope', '--profile', 'w'], at);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the client credentials \(400\): invalid_client/);
    expect((await runCli(['login', '--token-url', tokenUrl, '--client-id', 'billing'], at)).code).toBe(2);
  }, 60_000);
});
