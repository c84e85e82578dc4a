/**
 * `npm run bench` — runs every benchmark (or those named: `npm run bench -- staleness fanout`),
 * one after another so they do not share the two cores, prints each table, and writes
 * bench/results/<name>.json plus bench/results/summary.json. Never part of `npm test`.
 * Each benchmark's own settings are environment variables (see bench/README.md).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

import { formatTable, measureBundleSizes } from './bundle-size';
import { runCliBench } from './cli';
import { runClientPackage } from './client-package';
import { runFanout } from './fanout';
import { runFlags } from './flags';
import { runLayers } from './layers';
import { runListing } from './listing';
import { runMultitenant } from './multitenant';
import { runPropagation } from './propagation';
import { runReadPath } from './read-path';
import { runRollouts } from './rollouts';
import { runStaleness } from './staleness';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeMachine, machineInfo } from './support/machine';
import { RESULTS_DIR, log, writeResults } from './support/report';

interface BenchmarkOutcome {
  readonly text: string;
  readonly results: unknown;
}

const BENCHMARKS: Record<string, () => Promise<BenchmarkOutcome>> = {
  'bundle-size': async () => {
    const results = await measureBundleSizes();
    writeResults('bundle-size', results);
    return { text: `bundle-size\n${formatTable(results)}`, results };
  },
  staleness: runStaleness,
  'read-path': runReadPath,
  propagation: runPropagation,
  fanout: runFanout,
  listing: runListing,
  multitenant: runMultitenant,
  layers: runLayers,
  rollouts: runRollouts,
  cli: runCliBench,
  'client-package': runClientPackage,
  flags: runFlags,
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = requested.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exit(2);
  }
  const names = requested.length > 0 ? requested : Object.keys(BENCHMARKS);
  const machine = machineInfo();
  process.stdout.write(`machine: ${describeMachine(machine)}\n\n`);
  // A subset run updates its entries and keeps the others' last figures.
  const summaryFile = join(RESULTS_DIR, 'summary.json');
  const previous = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as { benchmarks?: Record<string, unknown> }) : {};
  const summary: Record<string, unknown> = { ...(previous.benchmarks ?? {}) };
  const failures: string[] = [];
  for (const name of names) {
    const started = Date.now();
    log(`── ${name}`);
    try {
      const { text, results } = await BENCHMARKS[name]();
      process.stdout.write(`${text}\n\n`);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      const rows = (results as { rows?: unknown }).rows;
      summary[name] = { seconds, ...(rows ? { rows } : {}) };
      log(`${name} took ${seconds} s`);
    } catch (error) {
      failures.push(name);
      summary[name] = { error: error instanceof Error ? error.message : String(error) };
      process.stderr.write(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }
  writeResults('summary', { measuredAt: new Date().toISOString(), machine, benchmarks: summary });
  process.stdout.write(`results in bench/results/ (${names.map((n) => `${n}.json`).join(', ')}, summary.json)\n`);
  process.exit(failures.length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
