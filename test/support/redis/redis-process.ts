/**
 * A redis-server child process with extra arguments (auth, TLS) and a port the caller may
 * choose, so a test can kill it and start a new one where clients will reconnect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForTcpPort } from '../servers';

export interface RedisProcess {
  readonly port: number;
  /** SIGKILL: the server vanishes mid-command, as a crashed node does. */
  kill(): Promise<void>;
}

export async function startRedisProcess(options: { port?: number; args?: readonly string[]; tlsPort?: boolean } = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'redis-proc-'));
  const portArgs = options.tlsPort ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const child: ChildProcess = spawn(
    'redis-server',
    [...portArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])],
    {
      stdio: 'ignore',
    },
  );
  await waitForTcpPort(port, child, 'redis-server');
  return {
    port,
    kill: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGKILL');
      }),
  };
}
