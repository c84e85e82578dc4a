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
 *
 * Stalled streams (the second table): FANOUT_STALLED streams (300) of one tenant holding
 * FANOUT_STALL_KEYS keys (400) of FANOUT_STALL_VALUE_BYTES (8000) are opened by clients that never
 * read (bare HTTP/2, no window given back), 100 per connection; then FANOUT_STALL_CHANGES (3000)
 * changes are written to that tenant; then the clients disconnect. RSS (after a full GC) per
 * stalled stream at each step, and another tenant's time to snapshot meanwhile. Each mode gets a
 * fresh server: a one-message snapshot (what clients that do not ask for pages get), a paged one,
 * and, with FANOUT_BASELINE_ROOT=<a checkout of the code before>, that code as the baseline.
 * FANOUT_SECTIONS (broadcast,stalled) picks the tables.
 */
import { forkTs, type Child } from './support/child';
import { describeMachine, machineInfo } from './support/machine';
import { envList, envNumber, log, percentile, round, sleep, table, writeResults, runAsScript } from './support/report';

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

export interface StalledRow {
  readonly mode: string;
  readonly streams: number;
  readonly rssPerStalledStream: number;
  readonly heapPerStalledStream: number;
  readonly otherSnapshotMs: number;
  readonly rssPerStreamAfterChanges: number;
  readonly slowConsumersCut: number;
  readonly streamsOpenAfterChanges: number;
  readonly rssAfterDisconnectBytes: number;
}

async function settleMs(ms: number): Promise<void> {
  await sleep(ms);
}

async function runStalledMode(
  mode: { name: string; paged: boolean; root?: string },
  cfg: { streams: number; keys: number; valueBytes: number; changes: number },
): Promise<{ row: StalledRow; detail: Record<string, unknown> }> {
  let server: Child | undefined;
  let load: Child | undefined;
  try {
    server = forkTs('bench/support/fanout-server-process.ts', {
      execArgv: ['--expose-gc', '--max-old-space-size=8192'],
      env: {
        FANOUT_STALL_KEYS: String(cfg.keys),
        FANOUT_STALL_VALUE_BYTES: String(cfg.valueBytes),
        // The server's default limits (per tenant 1000, per connection 100) hold here.
        FANOUT_MAX_STREAMS_PER_IDENTITY: '1000',
        ...(mode.root ? { FANOUT_SERVER_ROOT: mode.root } : {}),
      },
    });
    const ready = await server.next<{ port: number; stallToken: string; otherToken: string }>('ready');
    const target = `127.0.0.1:${ready.port}`;
    load = forkTs('bench/support/fanout-stall-process.ts', { execArgv: ['--max-old-space-size=4096'] });
    await load.next('ready');
    const memory = async (): Promise<Memory> => {
      server!.send({ type: 'memory' });
      return server!.next<Memory>('memory', 300_000);
    };
    const probe = async (): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        load!.send({ type: 'probe', target, token: ready.otherToken });
        times.push((await load!.next<{ ms: number }>('probed', 300_000)).ms);
      }
      return percentile(times, 50);
    };
    await settleMs(500);
    const base = await memory();
    const idleSnapshotMs = await probe();
    load.send({ type: 'stall', target, token: ready.stallToken, count: cfg.streams, perConnection: 100, paged: mode.paged });
    await load.next('stalled');
    await settleMs(3000);
    const stalled = await memory();
    const otherSnapshotMs = await probe();
    server.send({ type: 'burst', version: cfg.changes });
    await server.next('burst-done', 600_000);
    await settleMs(3000);
    const afterChanges = await memory();
    server.send({ type: 'metrics' });
    const m = await server.next<{ streamsOpen: number; slowConsumersCut: number }>('metrics');
    load.send({ type: 'ended' });
    const ended = await load.next<{ ended: number }>('ended');
    load.send({ type: 'disconnect' });
    await load.next('disconnected');
    await settleMs(3000);
    const afterDisconnect = await memory();
    const per = (mem: Memory) => Math.round((mem.rss - base.rss) / cfg.streams);
    const row: StalledRow = {
      mode: mode.name,
      streams: cfg.streams,
      rssPerStalledStream: per(stalled),
      heapPerStalledStream: Math.round((stalled.heapUsed - base.heapUsed) / cfg.streams),
      otherSnapshotMs: round(otherSnapshotMs, 1),
      rssPerStreamAfterChanges: per(afterChanges),
      slowConsumersCut: m.slowConsumersCut,
      streamsOpenAfterChanges: m.streamsOpen,
      rssAfterDisconnectBytes: afterDisconnect.rss - base.rss,
    };
    log(`fanout stalled (${mode.name}): ${JSON.stringify(row)}`);
    return {
      row,
      detail: {
        mode: mode.name,
        root: mode.root,
        baselineRssBytes: base.rss,
        rssBytes: { stalled: stalled.rss, afterChanges: afterChanges.rss, afterDisconnect: afterDisconnect.rss },
        externalBytesPerStalledStream: Math.round((stalled.external - base.external) / cfg.streams),
        otherSnapshotMsWithoutStalled: round(idleSnapshotMs, 1),
        stalledStreamsEndedAtClient: ended.ended,
      },
    };
  } finally {
    await load?.stop(5000);
    await server?.stop(5000);
  }
}

async function runStalled(): Promise<{ rows: StalledRow[]; details: Record<string, unknown>[]; cfg: Record<string, number> }> {
  const cfg = {
    streams: envNumber('FANOUT_STALLED', 300),
    keys: envNumber('FANOUT_STALL_KEYS', 400),
    valueBytes: envNumber('FANOUT_STALL_VALUE_BYTES', 8000),
    changes: envNumber('FANOUT_STALL_CHANGES', 3000),
  };
  const baselineRoot = process.env.FANOUT_BASELINE_ROOT?.trim();
  const modes = [
    ...(baselineRoot ? [{ name: `before (code at ${baselineRoot})`, paged: false, root: baselineRoot }] : []),
    { name: 'one-message snapshot (clients without paged_snapshots)', paged: false },
    { name: 'paged snapshot', paged: true },
  ];
  const rows: StalledRow[] = [];
  const details: Record<string, unknown>[] = [];
  for (const mode of modes) {
    const { row, detail } = await runStalledMode(mode, cfg);
    rows.push(row);
    details.push(detail);
  }
  return { rows, details, cfg };
}

export async function runFanout(): Promise<{ rows: FanoutRow[]; text: string; results: unknown }> {
  const sections = (process.env.FANOUT_SECTIONS ?? 'broadcast,stalled').split(',').map((x) => x.trim());
  const broadcast = sections.includes('broadcast') ? await runBroadcast() : undefined;
  const stalled = sections.includes('stalled') ? await runStalled() : undefined;
  const results = { rows: broadcast?.rows ?? [], metadata: broadcast?.metadata, stalled };
  writeResults('fanout', results);
  const text = [
    broadcast?.text,
    stalled &&
      [
        `fanout — ${stalled.cfg.streams} Watch streams that are never read, one tenant of ${stalled.cfg.keys} keys × ${stalled.cfg.valueBytes} B, then ${stalled.cfg.changes} changes to it, then the clients disconnect`,
        table(
          [
            'mode',
            'RSS/stalled stream',
            'heap/stalled stream',
            "other tenant's snapshot ms",
            `RSS/stream after ${stalled.cfg.changes} changes`,
            'cut off',
            'still open',
            'RSS left after disconnect',
          ],
          stalled.rows.map((r) => [
            r.mode,
            r.rssPerStalledStream,
            r.heapPerStalledStream,
            r.otherSnapshotMs,
            r.rssPerStreamAfterChanges,
            r.slowConsumersCut,
            r.streamsOpenAfterChanges,
            `${(r.rssAfterDisconnectBytes / 1048576).toFixed(1)} MiB`,
          ]),
        ),
      ].join('\n'),
    `machine: ${describeMachine(machineInfo())}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { rows: broadcast?.rows ?? [], text, results };
}

async function runBroadcast(): Promise<{ rows: FanoutRow[]; text: string; metadata: unknown }> {
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
      broadcast: "from just before the change is appended to the server's log to the last stream receiving it",
      details,
      targets: {
        streams: 10000,
        bytesPerStream: `≤ ${TARGET_BYTES_PER_STREAM}`,
        broadcastMs: `≤ ${TARGET_BROADCAST_MS}`,
        met: top.streams >= 10000 && top.bytesPerStream <= TARGET_BYTES_PER_STREAM && top.broadcastP99Ms <= TARGET_BROADCAST_MS,
      },
    };
    const text = [
      `fanout — Watch streams on one fanout process, ${cfg.perChannel} streams per channel, ${cfg.changes} changes per level`,
      table(
        ['streams', 'bytes/stream (RSS)', 'heap bytes/stream', 'broadcast p50 ms', 'broadcast p99 ms'],
        rows.map((r, i) => [r.streams, r.bytesPerStream, String(details[i].heapBytesPerStream), r.broadcastP50Ms, r.broadcastP99Ms]),
      ),
      `target 10,000 streams at ≤ 20 KB each, broadcast ≤ ${TARGET_BROADCAST_MS} ms: ${metadata.targets.met ? 'met' : 'NOT met'}`,
    ].join('\n');
    return { rows, text, metadata };
  } finally {
    await load?.stop(5000);
    await server?.stop(5000);
  }
}

if (require.main === module) {
  runAsScript('fanout', runFanout);
}
