/**
 * Benchmark: @tenant-config/client as a user installs it. `npm pack` (tsup via prepack), then
 * `npm install <tarball>` into a fresh ESM project in a temp dir (outside this repository):
 *
 * - the tarball, and the install: bytes under node_modules and the packages in it (the SDK and
 *   its runtime dependencies, transitively), and how long the install took (`--prefer-offline`);
 * - a minimal consumer (`new ConfigClient(...)`, `start()`, `get`) bundled by esbuild (minified,
 *   node20) as ESM and as CJS, dependencies included, side by side with the SDK's own dist files;
 * - time to `live` against the local system (started in this process on free ports), CLIENT_PKG_RUNS
 *   times: a fresh `node` process on the installed package (process start → live, and
 *   `new ConfigClient` → live), side by side with the SDK from source through tsx, as before.
 *
 * Prints a table and writes bench/results/client-package.json. Settings (env): CLIENT_PKG_RUNS (10).
 * Run: `npm run bench -- client-package` (or `npx tsx bench/client-package.ts`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { startLocalSystem } from '../local/system';
import { cleanEnv, installInto, measureInstall, packClient } from '../packages/client/scripts/pack';
import { envNumber, log, percentile, round, runAsScript, table, writeResults } from './support/report';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');

const CONSUMER = `import { ConfigClient } from '@tenant-config/client';
const began = performance.now();
const config = new ConfigClient({ grpcTarget: process.env.GRPC, httpBaseUrl: process.env.HTTP, token: () => process.env.TOKEN, prefixes: ['tenantconfig:'] });
await config.start({ timeoutMs: 20000 });
console.log(JSON.stringify({ status: config.status, plan: config.get('tenantconfig:plan'), clientMs: performance.now() - began, processMs: performance.now() }));
await config.close();
`;

const FROM_SOURCE = `import { ConfigClient } from ${JSON.stringify(join(ROOT, 'client'))};
async function main() {
  const began = performance.now();
  const config = new ConfigClient({ grpcTarget: process.env.GRPC!, httpBaseUrl: process.env.HTTP, token: () => process.env.TOKEN ?? '', prefixes: ['tenantconfig:'] });
  await config.start({ timeoutMs: 20000 });
  console.log(JSON.stringify({ status: config.status, plan: config.get('tenantconfig:plan'), clientMs: performance.now() - began, processMs: performance.now() }));
  await config.close();
}
void main();
`;

interface LiveRun {
  readonly clientMs: number;
  readonly processMs: number;
  /** Wall clock, spawn → exit. */
  readonly wallMs: number;
}

interface BundleRow {
  readonly what: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

async function timeToLive(cwd: string, args: string[], env: Record<string, string>, expectPlan: string): Promise<LiveRun> {
  const began = Date.now();
  const { stdout } = await run(args[0], args.slice(1), { cwd, env: cleanEnv(env), maxBuffer: 1 << 20 });
  const wallMs = Date.now() - began;
  const line = stdout.trim().split('\n').pop() ?? '';
  const out = JSON.parse(line) as { status: string; plan: string; clientMs: number; processMs: number };
  if (out.status !== 'live' || out.plan !== expectPlan) throw new Error(`the consumer did not reach live with the value: ${line}`);
  return { clientMs: out.clientMs, processMs: out.processMs, wallMs };
}

async function bundle(cwd: string, format: 'esm' | 'cjs'): Promise<BundleRow> {
  const outfile = join(cwd, `bundle.${format}.js`);
  await build({
    stdin: {
      contents:
        format === 'esm'
          ? CONSUMER
          : `(async () => {\n${CONSUMER.replace("import { ConfigClient } from '@tenant-config/client';", "const { ConfigClient } = require('@tenant-config/client');")}\n})();`,
      resolveDir: cwd,
      sourcefile: 'consumer.js',
      loader: 'js',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    minify: true,
    logLevel: 'error',
    ...(format === 'esm' ? { banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } } : {}),
  });
  const body = readFileSync(outfile);
  return { what: `minimal consumer, bundled (${format.toUpperCase()}, minified, dependencies included)`, bytes: body.length, gzipBytes: gzipSync(body).length };
}

const stats = (sample: readonly number[]) => ({ p50: round(percentile(sample, 50), 1), max: round(Math.max(...sample), 1) });

export async function runClientPackage(): Promise<{ text: string; results: unknown }> {
  const runs = envNumber('CLIENT_PKG_RUNS', 10);
  const dir = mkdtempSync(join(tmpdir(), 'bench-client-package-'));
  const system = await startLocalSystem({ dir: join(dir, 'system'), port: 0, grpcPort: 0, fanoutDrainMs: 200 });
  try {
    log('client-package: npm pack (tsup via prepack)');
    const packBegan = Date.now();
    const tarball = await packClient(join(dir, 'pack'));
    const packMs = Date.now() - packBegan;
    const project = join(dir, 'esm');
    log('client-package: npm install <tarball> into a fresh ESM project');
    const { installMs } = await installInto(project, tarball, 'module');
    const installed = measureInstall(project);
    const dist = join(project, 'node_modules', '@tenant-config', 'client', 'dist');
    const own = (file: string): BundleRow => {
      const body = readFileSync(join(dist, file));
      return { what: `the SDK's own dist/${file}`, bytes: body.length, gzipBytes: gzipSync(body).length };
    };
    const bundles = [own('index.mjs'), own('index.js'), await bundle(project, 'esm'), await bundle(project, 'cjs')];

    const admin = system.signer.signToken({ tenant: 'bench', admin: true });
    const reader = system.signer.signToken({ tenant: 'bench', admin: false });
    const res = await fetch(`${system.endpoints.http}/v1/config/tenantconfig:plan`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'gold' }),
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`seeding failed: ${res.status}`);
    writeFileSync(join(project, 'consumer.mjs'), CONSUMER);
    writeFileSync(join(dir, 'from-source.ts'), FROM_SOURCE);
    const env = { GRPC: system.endpoints.grpc, HTTP: system.endpoints.http, TOKEN: reader };
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const pkgRuns: LiveRun[] = [];
    const srcRuns: LiveRun[] = [];
    log(`client-package: ${runs} cold starts to live, each way`);
    for (let i = 0; i < runs; i += 1) {
      pkgRuns.push(await timeToLive(project, [process.execPath, 'consumer.mjs'], env, 'gold'));
      srcRuns.push(await timeToLive(dir, [tsx, 'from-source.ts'], env, 'gold'));
    }
    const live = (name: string, sample: readonly LiveRun[]) => ({
      name,
      clientMs: stats(sample.map((r) => r.clientMs)),
      processMs: stats(sample.map((r) => r.processMs)),
      wallMs: stats(sample.map((r) => r.wallMs)),
    });
    const liveRows = [live('installed package (node consumer.mjs)', pkgRuns), live('source in this repo (tsx, as before)', srcRuns)];
    const results = {
      measuredAt: new Date().toISOString(),
      node: process.version,
      tarball: { file: tarball.split('/').pop(), bytes: statSync(tarball).size },
      packMs,
      install: { installMs, nodeModulesBytes: installed.bytes, packages: installed.packages },
      bundles,
      timeToLive: { runs, rows: liveRows },
    };
    writeResults('client-package', results);
    const mb = (n: number) => `${round(n / (1024 * 1024), 2)} MiB`;
    const kb = (n: number) => `${round(n / 1024, 1)} KiB`;
    const text = [
      'client-package',
      table(
        ['measure', 'value'],
        [
          ['tarball', kb(results.tarball.bytes)],
          ['npm pack (tsup build included), ms', packMs],
          ['npm install <tarball> (--prefer-offline), ms', installMs],
          ['installed node_modules', mb(installed.bytes)],
          ['packages installed (the SDK + its dependencies, transitively)', installed.packages],
        ],
      ),
      '',
      table(
        ['bundle', 'bytes', 'gzip'],
        bundles.map((b) => [b.what, kb(b.bytes), kb(b.gzipBytes)]),
      ),
      '',
      table(
        ['time to live (ms), p50 / max', 'new ConfigClient → live', 'process start → live', 'spawn → exit'],
        liveRows.map((r) => [r.name, `${r.clientMs.p50} / ${r.clientMs.max}`, `${r.processMs.p50} / ${r.processMs.max}`, `${r.wallMs.p50} / ${r.wallMs.max}`]),
      ),
    ].join('\n');
    return { text, results };
  } finally {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runAsScript('client-package', runClientPackage);
