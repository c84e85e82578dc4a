/**
 * `tenant-config watch` as a child process against the local system: it says "watching" on
 * stderr once the stream is live, prints each change as one line (one JSON object per line with
 * `--output json`), follows a named tenant for an operator, and closes cleanly on SIGINT (exit 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { LocalApi } from '../e2e/local-api';
import { cliEnv, spawnCli, type CliEnv } from './cli-process';

interface Watching {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function startWatch(args: string[], at: CliEnv, env: NodeJS.ProcessEnv): Watching {
  const child = spawnCli(['watch', ...args], at, env);
  const lines: string[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const parts = stdout.split('\n');
    stdout = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

describe('tenant-config watch against the local system', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let at: CliEnv;
  let admin: string;
  const watchers: Watching[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-watch-'));
    system = await startLocalSystem({ dir: join(dir, 'local'), port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    at = cliEnv(dir, join(dir, 'home'));
    admin = system.signer.signToken({ tenant: 'acme', admin: true });
    expect((await api.put('/v1/config/tenantconfig:before', admin, 'old')).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    for (const w of watchers) w.child.kill('SIGKILL');
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (token: string): NodeJS.ProcessEnv => ({
    TENANT_CONFIG_ENDPOINT: system.endpoints.http,
    TENANT_CONFIG_GRPC_ENDPOINT: system.endpoints.grpc,
    TENANT_CONFIG_TOKEN: token,
  });

  it('prints each change as one line as it arrives, and exits 0 on SIGINT', async () => {
    const w = startWatch(['--prefix', 'tenantconfig:'], at, env(admin));
    watchers.push(w);
    await until('watching on stderr', () => (/watching your tenant \(prefix tenantconfig:\)/.test(w.stderr()) ? true : undefined));
    expect(w.lines).toEqual([]); // the first state is loaded silently

    expect((await api.put('/v1/config/tenantconfig:limits', admin, { max: 10 })).status).toBe(201);
    expect((await api.put('/v1/config/paramconfig:db/pool', admin, 5)).status).toBe(201); // outside the prefix
    expect((await api.delete('/v1/config/tenantconfig:before', admin)).status).toBe(204);
    await until('two lines', () => (w.lines.length >= 2 ? true : undefined));
    expect(w.lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}tenantconfig:limits = \{"max":10\} {2}\(v1, tenant\)$/);
    expect(w.lines[1]).toMatch(/^\S+ {2}tenantconfig:before deleted {2}\(v2/);

    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(w.lines).toHaveLength(2);
  }, 40_000);

  it('--output json: one JSON object per line; an operator follows a named tenant', async () => {
    const operator = system.signer.signOperatorToken({ operator: 'alice' });
    const w = startWatch(['--tenant', 'acme', '--output', 'json'], at, env(operator));
    watchers.push(w);
    await until('watching on stderr', () => (/watching tenant acme/.test(w.stderr()) ? true : undefined));

    expect((await api.put('/v1/config/tenantconfig:limits', admin, { max: 11 })).status).toBe(200);
    await until('a line', () => (w.lines.length >= 1 ? true : undefined));
    expect(JSON.parse(w.lines[0])).toMatchObject({ tenantId: 'acme', key: 'tenantconfig:limits', value: { max: 11 }, version: 2, deleted: false });

    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 40_000);

  it('exits 1 with the reason when the fanout refuses the token, and 2 on bad options', async () => {
    const w = startWatch([], at, env('not-a-token'));
    watchers.push(w);
    expect(await w.exited).toBe(1);
    expect(w.stderr()).toMatch(/^tenant-config: watch: /m);

    const both = startWatch(['--tenant', 'acme', '--all-tenants'], at, env(admin));
    watchers.push(both);
    expect(await both.exited).toBe(2);
  }, 40_000);
});
