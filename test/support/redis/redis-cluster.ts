/**
 * A private three-node Redis Cluster on free ports, for checking that every multi-key command
 * stays in one hash slot (a cluster-enabled server refuses CROSSSLOT even when the slots share a node).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForTcpPort } from '../servers';

export interface RunningCluster {
  readonly nodes: readonly { host: string; port: number }[];
  stop(): Promise<void>;
}

const RANGES: readonly [number, number][] = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

function cli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export async function startRedisCluster(): Promise<RunningCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  for (let i = 0; i < RANGES.length; i++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    ports.push(port);
    children.push(child);
    await waitForTcpPort(port, child, 'redis-server (cluster node)');
  }
  RANGES.forEach(([from, to], i) => cli(ports[i], 'CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)));
  for (const port of ports.slice(1)) cli(ports[0], 'CLUSTER', 'MEET', '127.0.0.1', String(port));
  const deadline = Date.now() + 15_000;
  while (!ports.every((p) => cli(p, 'CLUSTER', 'INFO').includes('cluster_state:ok'))) {
    if (Date.now() > deadline) throw new Error('redis cluster did not reach cluster_state:ok within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    stop: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
