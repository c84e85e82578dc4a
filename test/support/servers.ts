/**
 * Real local servers for tests, each on a free port, each stopped by the caller.
 * moto_server and redis-server are external binaries: when one is missing the
 * suite that needs it says so loudly (see `describeIf`) instead of passing silently.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import dynalite from 'dynalite';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** `describe` when the binary is on PATH; otherwise a loud note and a skipped suite. */
export function describeIf(binary: string): jest.Describe {
  if (hasBinary(binary)) return describe;
  console.warn(`\n*** SKIPPING: '${binary}' is not on PATH; install it to run this suite (see README, Tests) ***\n`);
  return describe.skip;
}

export interface RunningServer {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** dynalite in-process, data in a fresh temp dir (or in memory). */
export async function startDynalite(opts: { inMemory?: boolean } = {}): Promise<RunningServer> {
  const dir = opts.inMemory ? undefined : mkdtempSync(join(tmpdir(), 'dynalite-'));
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: dir });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          if (dir) rmSync(dir, { recursive: true, force: true });
          resolve();
        }),
      ),
  };
}

async function waitForHttp(url: string, child: ChildProcess, name: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before it was ready`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not answer at ${url} within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/** moto_server (Python moto 5): an independent emulator of DynamoDB (+Streams), SSM and Cognito. */
export async function startMoto(): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(`${endpoint}/moto-api/`, child, 'moto_server');
  return { endpoint, port, stop: () => stopChild(child) };
}

/** A private redis-server on a free port, keeping nothing on disk. */
export async function startRedis(): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  await waitForTcpPort(port, child, 'redis-server');
  return {
    endpoint: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once something accepts TCP connections on the port; fails if `child` exits first or after `timeoutMs`. */
export async function waitForTcpPort(port: number, child: ChildProcess, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** SDK client settings for a local endpoint; any credentials work locally. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  };
}
