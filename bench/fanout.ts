/**
 * Benchmark: how many concurrent Watch streams one fanout process holds, what each costs in
 * memory, and how long one change takes to reach all of them.
 *
 * - Server: a child process running startFanoutServer (the Fargate task's code) over an
 *   in-memory change log, started with --expose-gc; a stats hook answers process.memoryUsage()
 *   after a full GC. Memory per stream = (RSS with N streams − RSS with none) / N (heap too).
 * - Load: another child process opening the streams, PERCHANNEL per channel (each channel its
 *   own HTTP/2 connection), every stream one tenant's, so one change goes to all of them.
 * - Broadcast: the server appends a change to its log; the time is from just before the append
 *   to the moment the last stream received it (both wall clocks of one machine).
 * - Levels are reached by adding streams: 1,000, then 5,000, then 10,000.
 *
 * Settings (env): FANOUT_LEVELS (1000,5000,10000), FANOUT_PER_CHANNEL (100),
 * FANOUT_CHANGES (changes per level, 15), FANOUT_GAP_MS (pause between changes, 200).
 */
import { forkTs, type Child } from './support/child';
import { describeMachine, machineInfo } from './support/machine';
import { envList, envNumber, log, percentile, round, sleep, table, writeResults } from './support/report';

export interface FanoutRow {
  readonly streams: number;
  readonly bytesPerStream: number;
  readonly broadcastP50Ms: number;
  readonly broadcastP99Ms: number;
}

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

const TARGET_BYTES_PER_STREAM = 20 * 1024;
const TARGET_BROADCAST_MS = 500;

export async function runFanout(): Promise<{ rows: FanoutRow[]; text: string; results: unknown }> {
  const cfg = {
    levels: envList('FANOUT_LEVELS', [1000, 5000, 10000]).sort((a, b) => a - b),
    perChannel: envNumber('FANOUT_PER_CHANNEL', 100),
    changes: envNumber('FANOUT_CHANGES', 15),
    gapMs: envNumber('FANOUT_GAP_MS', 200),
  };
  let server: Child | undefined;
  let load: Child | undefined;
  try {
    server = forkTs('bench/support/fanout-server-process.ts', { execArgv: ['--expose-gc', '--max-old-space-size=2048'] });
    const ready = await server.next<{ port: number; token: string }>('ready');
    load = forkTs('bench/support/fanout-load-process.ts', { execArgv: ['--max-old-space-size=4096'] });
    await load.next('ready');
    const memory = async (): Promise<Memory> => {
      server!.send({ type: 'memory' });
      return server!.next<Memory>('memory');
    };
    await sleep(500);
    const baseline = await memory();
    const rows: FanoutRow[] = [];
    const details: Record<string, unknown>[] = [];
    let open = 0;
    let version = 0;
    for (const level of cfg.levels) {
      const started = Date.now();
      load.send({ type: 'open', target: `127.0.0.1:${ready.port}`, token: ready.token, count: level - open, perChannel: cfg.perChannel });
      const opened = await load.next<{ streams: number; failed: number; channels: number }>('opened', 300_000);
      open = level;
      log(`fanout: ${opened.streams} streams open on ${opened.channels} channels (${opened.failed} failed) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await sleep(1000);
      const mem = await memory();
      const times: number[] = [];
      let incomplete = 0;
      for (let i = 0; i < cfg.changes; i++) {
        version += 1;
        server.send({ type: 'change', version });
        const changed = await server.next<{ at: number }>('changed');
        load.send({ type: 'await', version, timeoutMs: 10_000 });
        const arrived = await load.next<{ count: number; expected: number; last: number }>('arrived', 20_000);
        if (arrived.count < arrived.expected) incomplete += 1;
        times.push(arrived.last - changed.at);
        await sleep(cfg.gapMs);
      }
      const streams = opened.streams;
      const row: FanoutRow = {
        streams,
        bytesPerStream: Math.round((mem.rss - baseline.rss) / streams),
        broadcastP50Ms: round(percentile(times, 50), 1),
        broadcastP99Ms: round(percentile(times, 99), 1),
      };
      rows.push(row);
      details.push({
        streams,
        channels: opened.channels,
        failedToOpen: opened.failed,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapBytesPerStream: Math.round((mem.heapUsed - baseline.heapUsed) / streams),
        externalBytesPerStream: Math.round((mem.external - baseline.external) / streams),
        broadcastMaxMs: round(Math.max(...times), 1),
        changes: times.length,
        changesNotReachingEveryStream: incomplete,
      });
      log(`fanout: ${streams} streams: ${row.bytesPerStream} B/stream, broadcast p50 ${row.broadcastP50Ms} ms p99 ${row.broadcastP99Ms} ms`);
    }
    const top = rows[rows.length - 1];
    const metadata = {
      benchmark: 'fanout',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      setup:
        'server: child process running startFanoutServer over an in-memory change log (--expose-gc; memory after a full GC); load: another child process, streams multiplexed over channels, all streams of one tenant',
      perChannel: cfg.perChannel,
      changesPerLevel: cfg.changes,
      gapMs: cfg.gapMs,
      baseline: { rssBytes: baseline.rss, heapUsedBytes: baseline.heapUsed },
      bytesPerStream: 'RSS delta of the server process from no streams to N streams, divided by N',
      broadcast: 'from just before the change is appended to the server\'s log to the last stream receiving it',
      details,
      targets: {
        streams: 10000,
        bytesPerStream: `≤ ${TARGET_BYTES_PER_STREAM}`,
        broadcastMs: `≤ ${TARGET_BROADCAST_MS}`,
        met: top.streams >= 10000 && top.bytesPerStream <= TARGET_BYTES_PER_STREAM && top.broadcastP99Ms <= TARGET_BROADCAST_MS,
      },
    };
    const results = { rows, metadata };
    writeResults('fanout', results);
    const text = [
      `fanout — Watch streams on one fanout process, ${cfg.perChannel} streams per channel, ${cfg.changes} changes per level`,
      table(
        ['streams', 'bytes/stream (RSS)', 'heap bytes/stream', 'broadcast p50 ms', 'broadcast p99 ms'],
        rows.map((r, i) => [r.streams, r.bytesPerStream, String(details[i].heapBytesPerStream), r.broadcastP50Ms, r.broadcastP99Ms]),
      ),
      `target 10,000 streams at ≤ 20 KB each, broadcast ≤ ${TARGET_BROADCAST_MS} ms: ${metadata.targets.met ? 'met' : 'NOT met'}`,
      `machine: ${describeMachine(metadata.machine)}`,
    ].join('\n');
    return { rows, text, results };
  } finally {
    await load?.stop(5000);
    await server?.stop(5000);
  }
}

if (require.main === module) {
  runFanout().then(
    ({ text }) => {
      process.stdout.write(`${text}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
