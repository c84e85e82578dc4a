/**
 * The parent's side shared by the layers and rollouts benchmarks: opening the load process's
 * Watch streams (bench/support/watch-streams.ts), the per-round and pooled arrival times, the
 * worst round's stream counts, and running every mode in turn.
 */
import type { Child } from './child';
import { log, percentile, round } from './report';

/** What a key-watch load process answers to `open`. */
export interface Opened {
  streams: number;
  failed: number;
  channels: number;
  snapshotSources: Record<string, number>;
}

/** What a key-watch load process answers to `await`. */
export interface Arrived {
  arrivals: number[];
  expected: number;
  reached: number;
  wronglyNotified: number;
  duplicates: number;
  otherChanges: number;
  endedAfterSnapshot: number;
}

/** Waits for the load process, has it open `streams` streams against the server and logs how that went. */
export async function openWatchStreams(
  load: Child,
  label: string,
  open: { port: number; tokensFile: string; streams: number; perChannel: number; key: string; prefix: string },
): Promise<Opened> {
  await load.next('ready');
  const openedAt = Date.now();
  load.send({
    type: 'open',
    target: `127.0.0.1:${open.port}`,
    tokensFile: open.tokensFile,
    streams: open.streams,
    perChannel: open.perChannel,
    key: open.key,
    prefixes: [open.prefix],
  });
  const opened = await load.next<Opened>('opened', 600_000);
  log(
    `${label}: ${opened.streams} streams open on ${opened.channels} channels (${opened.failed} failed) in ${((Date.now() - openedAt) / 1000).toFixed(1)} s; snapshots ${JSON.stringify(opened.snapshotSources)}`,
  );
  return opened;
}

/** The median, rounded to 0.1 ms. */
export const median = (xs: readonly number[]): number => round(percentile(xs, 50), 1);

const maxOf = (xs: readonly number[]): number => (xs.length > 0 ? Math.max(...xs) : Number.NaN);

/** One round's arrival times (ms), rounded to 0.1 ms. */
export const roundTimes = (times: readonly number[]) => ({
  firstMs: round(times.length > 0 ? Math.min(...times) : Number.NaN, 1),
  p50Ms: round(percentile(times, 50), 1),
  p99Ms: round(percentile(times, 99), 1),
  maxMs: round(maxOf(times), 1),
});

/** Every round's arrival times pooled (ms), rounded to 0.1 ms. */
export const pooledTimes = (pooled: readonly number[]) => ({
  p50Ms: round(percentile(pooled, 50), 1),
  p99Ms: round(percentile(pooled, 99), 1),
  maxMs: round(maxOf(pooled), 1),
});

/** The worst over the rounds of what the load process counted. */
export class WorstRound {
  reached = Number.POSITIVE_INFINITY;
  expected = 0;
  wrongly = 0;
  duplicates = 0;
  otherChanges = 0;
  ended = 0;

  add(arrived: Arrived): void {
    this.reached = Math.min(this.reached, arrived.reached);
    this.expected = Math.max(this.expected, arrived.expected);
    this.wrongly = Math.max(this.wrongly, arrived.wronglyNotified);
    this.duplicates = Math.max(this.duplicates, arrived.duplicates);
    this.otherChanges = Math.max(this.otherChanges, arrived.otherChanges);
    this.ended = Math.max(this.ended, arrived.endedAfterSnapshot);
  }

  /** The result detail's last fields. */
  detail() {
    return { streamsGettingTheKeyMoreThanOnce: this.duplicates, changesOfOtherKeys: this.otherChanges, streamsEndedAfterSnapshot: this.ended };
  }
}

/** The modes `name` lists (comma-separated; `fallback` without it), each one of `labels`. */
export function modesFromEnv<M extends string>(name: string, fallback: string, labels: Record<M, string>): M[] {
  const modes = (process.env[name] ?? fallback).split(',').map((m) => m.trim()) as M[];
  for (const m of modes) if (!(m in labels)) throw new Error(`${name}: unknown mode '${m}' (known: ${Object.keys(labels).join(', ')})`);
  return modes;
}

/** Runs the modes one after the other: their rows and details in order. */
export async function runModes<M, R>(
  modes: readonly M[],
  runMode: (mode: M) => Promise<{ row: R; detail: Record<string, unknown> }>,
): Promise<{ rows: R[]; details: Record<string, unknown>[] }> {
  const rows: R[] = [];
  const details: Record<string, unknown>[] = [];
  for (const mode of modes) {
    const { row, detail } = await runMode(mode);
    rows.push(row);
    details.push(detail);
  }
  return { rows, details };
}
