/**
 * `npm start` and `npm run token` as a newcomer uses them: separate processes, talking
 * over real HTTP, finding each other through LOCAL_DIR and endpoints.json.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadConfigProto, PROTO_LOADER_OPTIONS } from '../../proto/load';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import { freePort, hasBinary } from '../support/servers';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

/** The first event of a Watch, as an outside client following docs/design.md §4.2 gets it: plain grpc-js, Bearer token metadata. */
async function firstWatchEvent(target: string, token: string, prefixes: string[]): Promise<WatchEvent__Output> {
  const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
  const client = new ConfigWatch(target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  try {
    return await new Promise<WatchEvent__Output>((resolve, reject) => {
      const call = client.Watch({ prefixes, resume_cursor: '' }, metadata);
      call.once('data', (event: WatchEvent__Output) => {
        resolve(event);
        call.cancel();
      });
      call.once('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? undefined : reject(e)));
    });
  } finally {
    client.close();
  }
}

/** grpc.health.v1.Health/Check from the standard health.proto, not through the server's own code. */
async function healthCheck(target: string, service: string): Promise<string> {
  const definition = protoLoader.loadSync(join(ROOT, 'proto/grpc/health/v1/health.proto'), PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      client.Check({ service }, (e: grpc.ServiceError | null, reply: { status: string }) => (e ? reject(e) : resolve(reply.status))),
    );
  } finally {
    client.close();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, child: ChildProcess, timeoutMs = 45000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode} before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm start + npm run token (separate processes)', () => {
  let dir: string;
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let httpPort: number;
  let grpcPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-npm-start-'));
    httpPort = await freePort();
    grpcPort = await freePort();
    child = spawn('npx', ['tsx', 'local/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(httpPort), GRPC_PORT: String(grpcPort), LOCAL_DIR: dir, POWERTOOLS_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
  });

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const pidFile = join(dir, 'system.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
      if (pid) process.kill(pid, 'SIGKILL');
      child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, serves dev tokens, answers PUT and GET, and stops cleanly on SIGTERM', async () => {
    // ready: endpoints.json appears only once every server listens
    const endpointsFile = join(dir, 'endpoints.json');
    const endpoints = await waitFor('endpoints.json', () => (existsSync(endpointsFile) ? JSON.parse(readFileSync(endpointsFile, 'utf8')) : undefined), child);
    expect(endpoints).toMatchObject({ http: `http://127.0.0.1:${httpPort}`, grpc: `127.0.0.1:${grpcPort}`, region: 'us-east-1', ssmRoot: 'tenant-config' });
    await waitFor('the start-up banner', () => (stdout.includes('Ctrl-C') ? true : undefined), child);
    expect(stdout).toContain(`HTTP API          http://127.0.0.1:${httpPort}/v1/config`);
    expect(stdout).toContain('acme admin');
    expect(stdout).toContain('globex reader');
    expect(stdout).toContain(`curl -s -X PUT http://127.0.0.1:${httpPort}/v1/config/tenantconfig:plan`);
    expect(stdout).toContain(`gRPC Watch        127.0.0.1:${grpcPort}   tenantconfig.v1.ConfigWatch/Watch`);
    expect(stdout).not.toContain('reserved');
    expect(stdout).toContain('Change events');
    expect(stdout).toContain('client/README.md');
    // the cache: a private redis-server when one is on PATH (advertised), in memory otherwise (not)
    if (hasBinary('redis-server')) {
      expect(endpoints.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(stdout).toContain(`Cache             ${endpoints.redis}`);
    } else {
      expect(endpoints).not.toHaveProperty('redis');
      expect(stdout).toContain('in-memory cache');
    }

    // the token CLI prints exactly one JWT line on stdout
    const { stdout: tokenOut } = await run('npx', ['tsx', 'local/token-cli.ts', '--tenant', 'acme', '--admin'], {
      cwd: ROOT,
      env: { ...process.env, LOCAL_DIR: dir },
    });
    expect(tokenOut).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const token = tokenOut.trim();

    // and that token works against the running system
    const put = await fetch(`${endpoints.http}/v1/config/tenantconfig:plan`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { tier: 'gold' } }),
    });
    expect(put.status).toBe(201);
    const get = await fetch(`${endpoints.http}/v1/config/tenantconfig:plan`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ key: 'tenantconfig:plan', value: { tier: 'gold' }, version: 1, updatedBy: 'dev-acme-admin' });

    // an outside gRPC client (docs/design.md §4.2) against the advertised endpoint: Watch opens with a snapshot and its cursor
    const event = await firstWatchEvent(endpoints.grpc, token, ['tenantconfig:']);
    expect(event.event).toBe('snapshot');
    expect(event.snapshot!.cursor).toMatch(/\S/);
    expect(event.snapshot!.reason).toBe('INITIAL');
    expect(event.snapshot!.items).toEqual([
      expect.objectContaining({ key: 'tenantconfig:plan', value_json: JSON.stringify({ tier: 'gold' }), version: 1, updated_by: 'dev-acme-admin' }),
    ]);
    // a bad token is refused
    await expect(firstWatchEvent(endpoints.grpc, 'not-a-token', [])).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    // and the standard health service answers
    expect(await healthCheck(endpoints.grpc, '')).toBe('SERVING');
    expect(await healthCheck(endpoints.grpc, 'tenantconfig.v1.ConfigWatch')).toBe('SERVING');

    // SIGTERM to the node process running start.ts (its pid is in the lock file); npx and tsx pass its exit code on
    const pid = Number(readFileSync(join(dir, 'system.pid'), 'utf8'));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    process.kill(pid, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('stopped; data kept.');
    expect(existsSync(endpointsFile)).toBe(false);
    expect(existsSync(join(dir, 'system.pid'))).toBe(false);
    expect(existsSync(join(dir, 'dynamodb'))).toBe(true);
    expect(stderr).not.toMatch(/error/i);
  }, 90000);

  it('refuses a malformed tenant with exit code 2, usage on stderr and nothing on stdout', async () => {
    const failure = await run('npx', ['tsx', 'local/token-cli.ts', '--tenant', 'a/b'], { cwd: ROOT, env: { ...process.env, LOCAL_DIR: dir } }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

    expect(failure).toBeDefined();
    expect(failure!.code).toBe(2);
    expect(failure!.stdout).toBe('');
    expect(failure!.stderr).toContain("--tenant 'a/b'");
    expect(failure!.stderr).toContain('usage: npm run -s token');
  }, 30000);
});
