/**
 * Runs the CLI as a child process for the CLI's tests: the built bundle `node packages/cli/dist/main.js …`
 * (built before the suites by jest's global setup), or `node --import tsx packages/cli/src/main.ts …`
 * with `TENANT_CONFIG_CLI=source`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = join(__dirname, '..', '..');
export const CLI_SOURCE = join(REPO, 'packages', 'cli', 'src', 'main.ts');
/** tsx's loader by absolute URL: the CLI runs from directories outside the checkout too. */
export const TSX_LOADER = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for --output json). */
  json(): any;
}

export interface CliEnv {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A clean environment: no endpoint or token from the caller's shell, HOME and XDG_CONFIG_HOME as given. */
export function cliEnv(cwd: string, configHome: string, extra: NodeJS.ProcessEnv = {}): CliEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: configHome,
    XDG_CONFIG_HOME: configHome,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
  return { cwd, env };
}

export const CLI_DIST = join(REPO, 'packages', 'cli', 'dist', 'main.js');
/** The built bundle (jest's global setup builds it: test/support/build-cli.js), or the sources through tsx with TENANT_CONFIG_CLI=source. */
const CLI_ARGS = process.env.TENANT_CONFIG_CLI === 'source' ? ['--import', TSX_LOADER, CLI_SOURCE] : [CLI_DIST];

export function spawnCli(args: readonly string[], at: CliEnv, extraEnv: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: at.cwd, env: { ...at.env, ...extraEnv } });
}

export function runCli(args: readonly string[], at: CliEnv, options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, at, options.env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.stdin.end(options.stdin ?? '');
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}
