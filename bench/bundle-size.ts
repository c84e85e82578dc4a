/**
 * Benchmark: how big is what we deploy?
 *
 * - each Lambda bundle, built by esbuild with exactly the options NodejsFunction uses
 *   (lib/common/service-function.ts FUNCTION_BUNDLING: minified, CJS, node24, AWS SDK external);
 *   the target is config-api ≤ 1 MB;
 * - the fanout image's build context (the repository root filtered by .dockerignore, as CDK
 *   stages it), and the fanout bundle the Dockerfile builds from it.
 *
 * Prints a table and writes bench/results/bundle-size.json. Run: `npx tsx bench/bundle-size.ts`.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileSystem, IgnoreMode } from 'aws-cdk-lib';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { FUNCTION_BUNDLING, PROJECT_ROOT } from '../lib/common/service-function';

const CONFIG_API_TARGET_BYTES = 1024 * 1024;

/** The functions the stacks deploy, by entry (as in lib/). */
const FUNCTIONS = [
  { name: 'config-api', entry: 'lambda/config-api/main.ts', targetBytes: CONFIG_API_TARGET_BYTES },
  { name: 'cache-refresh', entry: 'lambda/cache-refresh/handler.ts' },
  { name: 'rollout-driver', entry: 'lambda/rollout-driver/handler.ts' },
  { name: 'pre-token-generation', entry: 'lambda/pre-token-generation/handler.ts' },
] as const;

export interface BundleMeasurement {
  readonly name: string;
  readonly entry: string;
  /** index.js as deployed (minified). */
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  /** Input modules esbuild pulled in. */
  readonly modules: number;
  readonly targetBytes?: number;
  readonly withinTarget?: boolean;
}

export interface BuildContextMeasurement {
  readonly files: number;
  readonly bytes: number;
  readonly topLevel: Readonly<Record<string, number>>;
}

export interface BundleSizeResults {
  readonly measuredAt: string;
  readonly node: string;
  readonly esbuild: string;
  readonly functions: readonly BundleMeasurement[];
  readonly fanout: { readonly buildContext: BuildContextMeasurement; readonly bundle: BundleMeasurement };
}

/** NodejsFunction's bundling options, as esbuild API options. */
function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: FUNCTION_BUNDLING.target,
    format: 'cjs',
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap ? 'external' : false,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    external: [...(FUNCTION_BUNDLING.externalModules ?? [])],
    metafile: true,
    logLevel: 'error',
    absWorkingDir: PROJECT_ROOT,
  };
}

async function measureBundle(
  name: string,
  entry: string,
  workDir: string,
  options: Partial<BuildOptions> = {},
  targetBytes?: number,
): Promise<BundleMeasurement> {
  const outfile = join(workDir, name, 'index.js');
  const result = await build({ ...esbuildOptions(entry, outfile), ...options });
  const code = readFileSync(outfile);
  const mapPath = `${outfile}.map`;
  let sourceMapBytes = 0;
  try {
    sourceMapBytes = statSync(mapPath).size;
  } catch {
    // No source map for this build.
  }
  return {
    name,
    entry,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    sourceMapBytes,
    modules: Object.keys(result.metafile?.inputs ?? {}).length,
    ...(targetBytes ? { targetBytes, withinTarget: code.length <= targetBytes } : {}),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The fanout image's build context exactly as CDK stages it: the repository root minus .dockerignore. */
function measureBuildContext(workDir: string): BuildContextMeasurement {
  const staged = join(workDir, 'fanout-context');
  const ignore = readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  FileSystem.copyDirectory(PROJECT_ROOT, staged, { exclude: ignore, ignoreMode: IgnoreMode.DOCKER });
  const topLevel: Record<string, number> = {};
  let bytes = 0;
  const files = filesUnder(staged);
  for (const file of files) {
    const size = statSync(file).size;
    bytes += size;
    const top = file.slice(staged.length + 1).split('/')[0];
    topLevel[top] = (topLevel[top] ?? 0) + size;
  }
  return { files: files.length, bytes, topLevel };
}

export async function measureBundleSizes(): Promise<BundleSizeResults> {
  const workDir = mkdtempSync(join(tmpdir(), 'bundle-size-'));
  try {
    const functions: BundleMeasurement[] = [];
    for (const fn of FUNCTIONS) {
      functions.push(await measureBundle(fn.name, fn.entry, workDir, {}, 'targetBytes' in fn ? fn.targetBytes : undefined));
    }
    const buildContext = measureBuildContext(workDir);
    // As fanout/Dockerfile builds it: everything bundled (the image has no node_modules).
    const bundle = await measureBundle('fanout', 'fanout/main.ts', workDir, { external: [] });
    return {
      measuredAt: new Date().toISOString(),
      node: process.version,
      esbuild: esbuildVersion,
      functions,
      fanout: { buildContext, bundle },
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatTable(results: BundleSizeResults): string {
  const rows: string[][] = [['artifact', 'minified', 'gzip', 'source map', 'modules', 'target']];
  for (const f of [...results.functions, results.fanout.bundle]) {
    const target = f.targetBytes ? `${f.withinTarget ? 'OK' : 'OVER'} (≤ ${kib(f.targetBytes)})` : '';
    rows.push([
      f.name === 'fanout' ? 'fanout (image bundle)' : `λ ${f.name}`,
      kib(f.bytes),
      kib(f.gzipBytes),
      kib(f.sourceMapBytes),
      String(f.modules),
      target,
    ]);
  }
  const ctx = results.fanout.buildContext;
  rows.push(['fanout build context', kib(ctx.bytes), '', '', `${ctx.files} files`, '']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const breakdown = Object.entries(ctx.topLevel)
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => `${name} ${kib(bytes)}`)
    .join(', ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '', `build context: ${breakdown}`].join('\n');
}

async function main(): Promise<void> {
  const results = await measureBundleSizes();
  process.stdout.write(`${formatTable(results)}\n`);
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bundle-size.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nwrote bench/results/bundle-size.json\n`);
  const api = results.functions.find((f) => f.name === 'config-api');
  if (api && api.withinTarget === false) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bundle-size: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
