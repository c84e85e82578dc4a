/**
 * dynalite in a child process, so the store's CPU is not the benchmark's event loop (on two
 * cores the load generator and the store would otherwise share one thread). In memory.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ChildServer {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const SCRIPT = `
const dynalite = require('dynalite');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// Dies with its parent, even when the parent crashes.
process.on('disconnect', () => process.exit(0));
`;

export function startDynaliteProcess(): Promise<ChildServer> {
  const child = spawn(process.execPath, ['-e', SCRIPT], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`dynalite child exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /PORT (\d+)/.exec(out);
      if (!m) return;
      child.removeAllListeners('exit');
      resolve({
        endpoint: `http://127.0.0.1:${m[1]}`,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3000).unref();
          }),
      });
    });
  });
}
