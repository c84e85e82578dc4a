/**
 * Benchmark: how long `tenant-config` takes to start, as a user feels it. A fresh `node` process
 * per run, timed from spawn to exit, for
 * - `--help` (commander and the command tree, no network), and
 * - `get KEY` against the local system (started in this process on free ports, one key written
 *   first): start-up, the token, one HTTP round trip, printing;
 * with the built package (`node packages/cli/dist/main.js`, one CJS bundle from tsup, built
 * first) side by side with the sources through tsx (`node --import tsx packages/cli/src/main.ts`,
 * what `npm run cli` does without npm's own start-up). `node -e 0` is the floor. Runs alternate
 * between the variants, after one warm-up each, so both see the same machine.
 *
 * Prints a table and writes bench/results/cli.json. Settings (env): CLI_BENCH_RUNS (15),
 * CLI_BENCH_SKIP_BUILD=1 to time an existing dist. Run: `npm run bench -- cli` (or `npx tsx bench/cli.ts`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLocalSystem } from '../local/system';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, percentile, round, runAsScript, table, writeResults } from './support/report';

const ROOT = resolve(__dirname, '..');
const CLI_DIR = join(ROOT, 'packages', 'cli');
const DIST = join(CLI_DIR, 'dist', 'main.js');
const SOURCE = join(CLI_DIR, 'src', 'main.ts');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface CliBenchRow {
  readonly command: string;
  readonly variant: 'dist' | 'tsx' | 'node -e 0';
  readonly runs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly meanMs: number;
}

function timeOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: tmpdir(), env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolvePromise(ms);
    });
  });
}

export async function runCliBench(): Promise<{ rows: CliBenchRow[]; text: string; results: unknown }> {
  const runs = Math.max(1, Math.round(envNumber('CLI_BENCH_RUNS', 15)));
  const machine = machineInfo();
  if (process.env.CLI_BENCH_SKIP_BUILD !== '1') {
    log('building packages/cli (tsup)');
    const built = spawnSync('npx', ['tsup'], { cwd: CLI_DIR, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`tsup failed: ${built.stdout}${built.stderr}`);
  }
  const distBytes = statSync(DIST).size;

  const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR'; // the local system's request log would drown the table
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const system = await startLocalSystem({ dir, port: 0, grpcPort: 0, fanoutDrainMs: 200 });
  try {
    const token = system.signer.signToken({ tenant: 'bench', admin: true });
    const put = await fetch(`${system.endpoints.http}/v1/config/tenantconfig:bench`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { limits: { max: 10 } } }),
    });
    if (put.status !== 201 && put.status !== 200) throw new Error(`seed write failed: ${put.status}`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_CONFIG_HOME: dir,
      TENANT_CONFIG_ENDPOINT: system.endpoints.http,
      TENANT_CONFIG_TOKEN: token,
    };
    const variants = { dist: [DIST], tsx: ['--import', TSX_LOADER, SOURCE] } as const;
    const commands = { '--help': ['--help'], 'get KEY': ['get', 'tenantconfig:bench'] } as const;
    const samples = new Map<string, number[]>();
    const record = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);

    // The floor: a node that does nothing.
    await timeOnce(['-e', '0'], env);
    for (let i = 0; i < runs; i++) record('node -e 0|', await timeOnce(['-e', '0'], env));
    for (const [command, args] of Object.entries(commands)) {
      for (const variantArgs of Object.values(variants)) await timeOnce([...variantArgs, ...args], env); // warm-up
      log(`${command}: ${runs} runs each of dist and tsx`);
      for (let i = 0; i < runs; i++) {
        for (const [variant, variantArgs] of Object.entries(variants)) record(`${variant}|${command}`, await timeOnce([...variantArgs, ...args], env));
      }
    }

    const rows: CliBenchRow[] = [...samples.entries()].map(([key, sample]) => {
      const [variant, command] = key.split('|');
      return {
        command: command || '(nothing)',
        variant: variant as CliBenchRow['variant'],
        runs: sample.length,
        p50Ms: round(percentile(sample, 50), 0),
        p90Ms: round(percentile(sample, 90), 0),
        minMs: round(Math.min(...sample), 0),
        meanMs: round(sample.reduce((a, b) => a + b, 0) / sample.length, 0),
      };
    });
    const results = { measuredAt: new Date().toISOString(), machine, runs, distBytes, rows };
    writeResults('cli', results);
    const speedup = (command: string) => {
      const d = rows.find((r) => r.variant === 'dist' && r.command === command)!;
      const t = rows.find((r) => r.variant === 'tsx' && r.command === command)!;
      return `${command}: dist p50 ${d.p50Ms} ms vs tsx ${t.p50Ms} ms (${round(t.p50Ms / d.p50Ms, 1)}× faster built)`;
    };
    const text = [
      `cli start-up (${describeMachine(machine)}; ${runs} runs each; spawn → exit; dist/main.js ${round(distBytes / 1024, 0)} KiB)`,
      table(
        ['command', 'variant', 'runs', 'p50 ms', 'p90 ms', 'min ms', 'mean ms'],
        rows.map((r) => [r.command, r.variant, r.runs, r.p50Ms, r.p90Ms, r.minMs, r.meanMs]),
      ),
      speedup('--help'),
      speedup('get KEY'),
    ].join('\n');
    return { rows, text, results };
  } finally {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runAsScript('cli', runCliBench);
