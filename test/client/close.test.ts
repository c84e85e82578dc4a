/**
 * close() leaves no handle behind: a child process that ran a client (live, or retrying with
 * every timer pending) exits by itself right after close(), without process.exit.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/servers';
import { changeEvent, item, ScriptedWatchServer, snapshotEvent } from './support/scripted-watch-server';
import { ListRouteServer, listItem } from './support/list-route-server';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const FIXTURE = join(__dirname, 'fixtures', 'close-exits.ts');

interface ChildOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from the "closed" line to the process exit. */
  readonly exitAfterCloseMs: number;
}

function runFixture(args: string[]): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [FIXTURE, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let closedAt = 0;
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!closedAt && stdout.includes('closed')) closedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, exitAfterCloseMs: closedAt ? Date.now() - closedAt : Number.POSITIVE_INFINITY });
    });
  });
}

describe('ConfigClient.close', () => {
  let dir: string;
  let server: ScriptedWatchServer;
  let http: ListRouteServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'config-client-close-'));
    server = new ScriptedWatchServer();
    await server.start();
    server.script = (w) => {
      w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
      setTimeout(() => w.call.write(changeEvent('tenantconfig:plan', 'silver', 2, '2-0')), 50);
    };
    http = new ListRouteServer();
    await http.start();
    http.items = [listItem('tenantconfig:plan', 'from-http', 1)];
  });

  afterAll(async () => {
    await server.stop();
    await http.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the process exit after a live stream with a pending snapshot-file write', async () => {
    const outcome = await runFixture([server.target, http.baseUrl, join(dir, 'live.json'), 'live']);

    expect(outcome.stderr).toBe('');
    expect(outcome.stdout.trim()).toBe('closed live "silver"');
    expect(outcome.code).toBe(0);
    expect(outcome.exitAfterCloseMs).toBeLessThan(1_000);
  });

  it('lets the process exit while it was retrying with backoff, stale and HTTP timers pending', async () => {
    const downPort = await freePort();

    const outcome = await runFixture([`127.0.0.1:${downPort}`, http.baseUrl, join(dir, 'down.json'), 'down']);

    expect(outcome.stderr).toBe('');
    expect(outcome.stdout.trim()).toBe('closed interrupted "from-http"');
    expect(outcome.code).toBe(0);
    expect(outcome.exitAfterCloseMs).toBeLessThan(1_000);
  });
});
