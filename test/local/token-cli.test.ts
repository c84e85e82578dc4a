/**
 * `npm run -s token` for every kind of principal: the token alone on stdout, claims shaped as
 * Cognito issues them, and usage errors with exit code 2. Each token is checked by the same
 * principalFromClaims both edges use.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { principalFromClaims, SCOPES } from '../../core/principal';

const ROOT = resolve(__dirname, '../..');
const exec = promisify(execFile);
const OPTIONS = { tenantClaim: 'tenant_id', adminGroup: 'config-admins' };

describe('token CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'token-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const token = async (...args: string[]) => {
    const { stdout } = await exec('npx', ['tsx', 'local/token-cli.ts', ...args], { cwd: ROOT, env: { ...process.env, LOCAL_DIR: dir } });
    const lines = stdout.split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(1);
    return JSON.parse(Buffer.from(lines[0].split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  };

  it('--service prints a client-credentials token: a service that reads', async () => {
    const claims = await token('--service', 'billing');

    expect(claims).toMatchObject({ sub: 'billing', client_id: 'billing', token_use: 'access', scope: SCOPES.read });
    expect(claims.username).toBeUndefined();
    expect(principalFromClaims(claims, OPTIONS)).toEqual({ kind: 'service', subject: 'billing', scopes: new Set([SCOPES.read]) });
  });

  it('--service with --scope read-secrets adds the scope to read', async () => {
    const claims = await token('--service', 'billing', '--scope', SCOPES.readSecrets);

    expect(claims.scope).toBe(`${SCOPES.read} ${SCOPES.readSecrets}`);
  });

  it('--operator prints an operator token: the operator group, no tenant', async () => {
    const claims = await token('--operator', 'alice');

    expect(claims).toMatchObject({ sub: 'alice', username: 'alice', 'cognito:groups': ['platform-operators'] });
    expect(claims.tenant_id).toBeUndefined();
    expect(principalFromClaims(claims, OPTIONS)).toEqual({ kind: 'operator', subject: 'alice' });
  });

  it.each([
    ['no kind at all', []],
    ['two kinds', ['--tenant', 'acme', '--operator', 'alice']],
    ['--scope without --service', ['--tenant', 'acme', '--scope', SCOPES.readSecrets]],
    ['--admin with --service', ['--service', 'billing', '--admin']],
    ['a service name with a space', ['--service', 'bill ing']],
  ])('refuses %s with exit code 2 and nothing on stdout', async (_what, args) => {
    const failure = await exec('npx', ['tsx', 'local/token-cli.ts', ...args], { cwd: ROOT, env: { ...process.env, LOCAL_DIR: dir } }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

    expect(failure?.code).toBe(2);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toContain('usage: npm run -s token');
  });
});
