/** Spawning a TypeScript child process (via tsx's loader) that talks over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export interface Child {
  readonly process: ChildProcess;
  /** The first message whose `type` matches. */
  next<T>(type: string, timeoutMs?: number): Promise<T>;
  send(message: object): void;
  stop(timeoutMs?: number): Promise<void>;
}

export function forkTs(script: string, options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}): Child {
  const child = fork(join(PROJECT_ROOT, script), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR', ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: Array<{ type: string; resolve: (m: never) => void }> = [];
  const queued: Array<{ type: string }> = [];
  child.on('message', (m: { type: string }) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m as never);
    else queued.push(m);
  });
  return {
    process: child,
    next<T>(type: string, timeoutMs = 120_000): Promise<T> {
      const i = queued.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queued.splice(i, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script}: no '${type}' message within ${timeoutMs} ms`)), timeoutMs);
        const onExit = (code: number | null) => reject(new Error(`${script} exited with ${code} while waiting for '${type}'`));
        child.once('exit', onExit);
        waiting.push({
          type,
          resolve: (m: never) => {
            clearTimeout(timer);
            child.off('exit', onExit);
            resolve(m as T);
          },
        });
      });
    },
    send(message) {
      child.send(message);
    },
    stop(timeoutMs = 10_000) {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        try {
          child.send({ type: 'stop' });
        } catch {
          child.kill('SIGTERM');
        }
        setTimeout(() => child.kill('SIGKILL'), timeoutMs).unref();
      });
    },
  };
}
