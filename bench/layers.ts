/**
 * Benchmark: one platform default change with 5,000 tenants and 10,000 Watch streams on one
 * fanout process, against the same change made today's way (one write per tenant).
 *
 * - Server: a child process (bench/support/layers-server-process.ts) running startFanoutServer
 *   with FanoutLayers over an in-memory backend, tenant registry and versioned cache + change
 *   log. LAYERS_TENANTS tenants; every LAYERS_OVERRIDE_EVERY-th holds its own value of the key
 *   (written before the server listens, so snapshots include it).
 * - Load: another child process (bench/support/layers-load-process.ts) with LAYERS_STREAMS Watch
 *   streams (stream i is tenant i mod N's: 2 per tenant at the defaults), 100 per channel (each
 *   channel its own HTTP/2 connection), prefix `tenantconfig:bench/`, opened in waves of 500.
 * - Mode "layers": the platform default exists (value 0); the server writes it once (value 1).
 *   Expected: the streams of tenants without their own value; the others must get nothing
 *   (checked LAYERS_QUIET_MS after the last arrival).
 * - Mode "per tenant (today)": a fresh server, same tenants and overrides, no platform default;
 *   the server writes the key into every tenant (put + apply each, LAYERS_WRITE_CONCURRENCY at a
 *   time). Expected: every stream.
 * - Time: from just before the first write to each expected stream's arrival (wall clocks of one
 *   machine). LAYERS_ROUNDS changes per mode on the same streams (values 1, 2, …), LAYERS_GAP_MS
 *   apart after the quiet period; p50/p99/max pool every stream's time of every change. Store writes = backend put/delete calls, cache writes = cache.apply calls, log
 *   entries = applies that answered `applied: true`; counted for the measured change only.
 *
 * Settings (env): LAYERS_TENANTS (5000), LAYERS_STREAMS (10000), LAYERS_OVERRIDE_EVERY (10),
 * LAYERS_PER_CHANNEL (100), LAYERS_WRITE_CONCURRENCY (16), LAYERS_ROUNDS (5), LAYERS_GAP_MS (500), LAYERS_QUIET_MS (1000),
 * LAYERS_TIMEOUT_MS (60000), LAYERS_MODES (layers,per-tenant), LAYERS_PROFILE (a directory: the server
 * writes a `--cpu-prof` profile there).
 */
import { forkTs, type Child } from './support/child';
import { LAYERS_KEY, LAYERS_PREFIX, type LayersMode } from './support/layers-server-process';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, round, runAsScript, sleep, table, writeResults } from './support/report';
import { median, modesFromEnv, openWatchStreams, pooledTimes, roundTimes, runModes, WorstRound, type Arrived } from './support/watch-rounds';

export interface LayersRow {
  readonly mode: string;
  readonly storeWrites: number;
  readonly logEntries: number;
  readonly cacheWrites: number;
  readonly streamsReached: number;
  readonly streamsExpected: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The time until the last expected stream had it: the median over the rounds. */
  readonly allReachedMedianMs: number;
  /** Streams that got a change of the key although they should not (overriding tenants' in "layers"). */
  readonly wronglyNotified: number;
  /** From just before the first write until the last write (and its apply) returned; median over the rounds. */
  readonly writesMs: number;
}

const TARGET_MS = 500;
const MOONSHOT_MS = 200;
const MODE_LABEL: Record<LayersMode, string> = { layers: 'layers (one platform default write)', 'per-tenant': 'per tenant (today)' };

interface Settings {
  readonly tenants: number;
  readonly streams: number;
  readonly overrideEvery: number;
  readonly perChannel: number;
  readonly writeConcurrency: number;
  readonly quietMs: number;
  readonly timeoutMs: number;
  readonly rounds: number;
  readonly gapMs: number;
  /** A directory: the server writes a `--cpu-prof` profile there. */
  readonly profileDir?: string;
}

async function runMode(mode: LayersMode, cfg: Settings): Promise<{ row: LayersRow; detail: Record<string, unknown> }> {
  let server: Child | undefined;
  let load: Child | undefined;
  try {
    const streamsPerTenant = Math.ceil(cfg.streams / cfg.tenants);
    server = forkTs('bench/support/layers-server-process.ts', {
      execArgv: ['--max-old-space-size=4096', ...(cfg.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${cfg.profileDir}`] : [])],
      env: {
        LAYERS_MODE: mode,
        LAYERS_TENANTS: String(cfg.tenants),
        LAYERS_OVERRIDE_EVERY: String(cfg.overrideEvery),
        LAYERS_STREAMS_PER_TENANT: String(streamsPerTenant),
        LAYERS_WRITE_CONCURRENCY: String(cfg.writeConcurrency),
      },
    });
    const ready = await server.next<{ port: number; tokensFile: string; overriding: number; seeded: Record<string, number> }>('ready', 300_000);
    load = forkTs('bench/support/layers-load-process.ts', { execArgv: ['--max-old-space-size=4096'] });
    const opened = await openWatchStreams(load, `layers (${mode})`, {
      port: ready.port,
      tokensFile: ready.tokensFile,
      streams: cfg.streams,
      perChannel: cfg.perChannel,
      key: LAYERS_KEY,
      prefix: LAYERS_PREFIX,
    });
    server.send({ type: 'stats' });
    const before = await server.next<{ openStreams: number }>('stats');
    await sleep(1000);
    const rounds: Array<Record<string, number>> = [];
    const pooled: number[] = [];
    const worst = new WorstRound();
    let counts = { storeWrites: 0, logEntries: 0, cacheWrites: 0, writesMs: [] as number[] };
    for (let r = 1; r <= cfg.rounds; r++) {
      // Each round a new value (1, 2, …): a new platform default, or a new write into every tenant.
      const value = r;
      load.send({ type: 'arm', value });
      await load.next('armed');
      server.send({ type: 'write', value });
      const written = await server.next<{ at: number; doneAt: number; storeWrites: number; logEntries: number; cacheWrites: number }>('written', cfg.timeoutMs);
      load.send({ type: 'await', expect: mode === 'layers' ? 'inheriting' : 'all', timeoutMs: cfg.timeoutMs, quietMs: cfg.quietMs });
      const arrived = await load.next<Arrived>('arrived', cfg.timeoutMs + cfg.quietMs + 30_000);
      const times = arrived.arrivals.map((t) => t - written.at);
      pooled.push(...times);
      if (r === 1) counts = { storeWrites: written.storeWrites, logEntries: written.logEntries, cacheWrites: written.cacheWrites, writesMs: [] };
      counts.writesMs.push(written.doneAt - written.at);
      worst.add(arrived);
      const summary = {
        round: r,
        storeWrites: written.storeWrites,
        logEntries: written.logEntries,
        cacheWrites: written.cacheWrites,
        reached: arrived.reached,
        expected: arrived.expected,
        ...roundTimes(times),
        wronglyNotified: arrived.wronglyNotified,
        writesMs: round(written.doneAt - written.at, 1),
      };
      rounds.push(summary);
      log(`layers (${mode}) round ${r}: ${JSON.stringify(summary)}`);
      await sleep(cfg.gapMs);
    }
    const row: LayersRow = {
      mode: MODE_LABEL[mode],
      storeWrites: counts.storeWrites,
      logEntries: counts.logEntries,
      cacheWrites: counts.cacheWrites,
      streamsReached: worst.reached,
      streamsExpected: worst.expected,
      ...pooledTimes(pooled),
      allReachedMedianMs: median(rounds.map((x) => x.maxMs)),
      wronglyNotified: worst.wrongly,
      writesMs: median(counts.writesMs),
    };
    log(`layers (${mode}): ${JSON.stringify(row)}`);
    return {
      row,
      detail: {
        mode,
        streamsOpen: opened.streams,
        streamsOpenAtServer: before.openStreams,
        channels: opened.channels,
        failedToOpen: opened.failed,
        overridingTenants: ready.overriding,
        snapshotSources: opened.snapshotSources,
        seeded: ready.seeded,
        rounds,
        ...worst.detail(),
      },
    };
  } finally {
    await load?.stop(5000);
    await server?.stop(5000);
  }
}

export async function runLayers(): Promise<{ rows: LayersRow[]; text: string; results: unknown }> {
  const cfg: Settings = {
    tenants: envNumber('LAYERS_TENANTS', 5000),
    streams: envNumber('LAYERS_STREAMS', 10_000),
    overrideEvery: envNumber('LAYERS_OVERRIDE_EVERY', 10),
    perChannel: envNumber('LAYERS_PER_CHANNEL', 100),
    writeConcurrency: envNumber('LAYERS_WRITE_CONCURRENCY', 16),
    quietMs: envNumber('LAYERS_QUIET_MS', 1000),
    timeoutMs: envNumber('LAYERS_TIMEOUT_MS', 60_000),
    rounds: Math.max(1, envNumber('LAYERS_ROUNDS', 5)),
    gapMs: envNumber('LAYERS_GAP_MS', 500),
    profileDir: process.env.LAYERS_PROFILE?.trim() || undefined,
  };
  const modes = modesFromEnv<LayersMode>('LAYERS_MODES', 'layers,per-tenant', MODE_LABEL);
  const { rows, details } = await runModes(modes, (mode) => runMode(mode, cfg));
  const layers = rows.find((r) => r.mode === MODE_LABEL.layers);
  const targets = layers && {
    storeWrites: { target: 1, measured: layers.storeWrites, met: layers.storeWrites === 1 },
    logEntries: { target: 1, measured: layers.logEntries, met: layers.logEntries === 1 },
    allStreamsMs: {
      target: `≤ ${TARGET_MS} (moonshot ${MOONSHOT_MS})`,
      measured: layers.maxMs,
      met: layers.streamsReached === layers.streamsExpected && layers.maxMs <= TARGET_MS,
      moonshot: layers.streamsReached === layers.streamsExpected && layers.maxMs <= MOONSHOT_MS,
    },
    noOverridingStreamNotified: layers.wronglyNotified === 0,
  };
  const results = {
    rows,
    metadata: {
      benchmark: 'layers',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      settings: {
        ...cfg,
        key: LAYERS_KEY,
        prefixes: [LAYERS_PREFIX],
        writeValues: `1…${cfg.rounds} (one per change)`,
        perTenantWrites: `bounded concurrency ${cfg.writeConcurrency}`,
      },
      setup:
        'server: child process running startFanoutServer with FanoutLayers over an in-memory backend, tenant registry and versioned cache + change log (no store latency); load: another child process, streams multiplexed over channels; a write = backend.put then cache.apply',
      time: "from just before the first write to each expected stream's arrival (wall clocks of one machine)",
      expected: 'layers: streams of tenants without their own value; per tenant: every stream',
      details,
      targets,
    },
  };
  writeResults('layers', results);
  const text = [
    `layers — one default change, ${cfg.tenants} tenants (every ${cfg.overrideEvery}th with its own value), ${cfg.streams} Watch streams on one fanout process, ${cfg.perChannel} per channel; ${cfg.rounds} changes per mode (p50/p99/max over every stream of every change); per tenant: ${cfg.writeConcurrency} writes at a time`,
    table(
      [
        'mode',
        'store writes',
        'log entries',
        'cache writes',
        'streams reached / expected',
        'p50 ms',
        'p99 ms',
        'max ms',
        'all reached ms (median round)',
        'streams wrongly notified',
        'writes took ms',
      ],
      rows.map((r) => [
        r.mode,
        r.storeWrites,
        r.logEntries,
        r.cacheWrites,
        `${r.streamsReached} / ${r.streamsExpected}`,
        r.p50Ms,
        r.p99Ms,
        r.maxMs,
        r.allReachedMedianMs,
        r.wronglyNotified,
        r.writesMs,
      ]),
    ),
    targets &&
      `targets (layers): 1 store write ${targets.storeWrites.met ? 'met' : 'NOT met'}, 1 log entry ${targets.logEntries.met ? 'met' : 'NOT met'}, all streams ≤ ${TARGET_MS} ms ${targets.allStreamsMs.met ? 'met' : 'NOT met'} (moonshot ${MOONSHOT_MS} ms ${targets.allStreamsMs.moonshot ? 'met' : 'not met'}), overriding streams notified: ${layers.wronglyNotified}`,
    `machine: ${describeMachine(machineInfo())}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { rows, text, results };
}

if (require.main === module) {
  runAsScript('layers', runLayers);
}
