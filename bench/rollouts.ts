/**
 * Benchmark: rollback latency from ALARM to the last Watch stream switched back, with 5,000
 * tenants and 10,000 streams on one fanout process (docs/design.md §8.3), against the same revert made the
 * per-tenant way (a write of the old value into each changed tenant's own key).
 *
 * - Server: a child process (bench/support/rollouts-server-process.ts) running startFanoutServer
 *   with FanoutLayers over an in-memory backend, tenant registry and versioned cache + change log
 *   (as the layers benchmark does), plus in "rollouts" mode the local rollout driver: a
 *   RolloutService writing through a ConfigService into that backend and cache, an in-memory
 *   rollout store, LocalAlarms and startRolloutTimer (a tick every ROLLOUTS_TICK_MS, and one at
 *   once when the alarm goes to ALARM). Every ROLLOUTS_OVERRIDE_EVERY-th tenant holds its own
 *   value of the key.
 * - Load: another child process (bench/support/rollouts-load-process.ts), ROLLOUTS_STREAMS
 *   streams (stream i is tenant i mod N's), ROLLOUTS_PER_CHANNEL per channel, opened in waves of 500.
 * - A round: the first wave goes live (rollouts: POST-equivalent `RolloutService.start` of the
 *   platform default old → new, waves ROLLOUTS_WAVES, bake ROLLOUTS_BAKE_SECONDS, the alarm;
 *   per tenant: the new value written into each in-wave tenant's key), and the load waits until
 *   every stream of an in-wave tenant has `new`; then the alarm is set to ALARM and each stream
 *   that must switch back is timed from just before the alarm's set to its change to `old`
 *   (rollouts: the driver's tick stores `rolled_back` and writes the old value into the layer;
 *   per tenant: an alarm listener writes `old` into each in-wave tenant's key,
 *   ROLLOUTS_WRITE_CONCURRENCY at a time, starting at the alarm — no tick in between). After
 *   ROLLOUTS_QUIET_MS more, streams that got any change of the key although they must not (out
 *   of the wave, or the tenant's own value) are counted. The alarm goes back to OK, next round.
 * - Counts (of the revert only): store writes = config backend put/delete calls; record writes =
 *   rollout store create/update calls; cache writes = cache.apply calls; log entries = applies
 *   that answered `applied: true`.
 *
 * Settings (env): ROLLOUTS_TENANTS (5000), ROLLOUTS_STREAMS (10000), ROLLOUTS_OVERRIDE_EVERY (10),
 * ROLLOUTS_PER_CHANNEL (100), ROLLOUTS_WAVES (50,100), ROLLOUTS_BAKE_SECONDS (3600),
 * ROLLOUTS_TICK_MS (250), ROLLOUTS_WRITE_CONCURRENCY (16), ROLLOUTS_ROUNDS (5), ROLLOUTS_GAP_MS (500),
 * ROLLOUTS_QUIET_MS (1000), ROLLOUTS_TIMEOUT_MS (60000), ROLLOUTS_MODES (rollouts,per-tenant).
 */
import { forkTs, type Child } from './support/child';
import { describeMachine, machineInfo } from './support/machine';
import { envList, envNumber, log, round, runAsScript, sleep, table, writeResults } from './support/report';
import { median, modesFromEnv, openWatchStreams, pooledTimes, roundTimes, runModes, WorstRound, type Arrived as LoadArrived } from './support/watch-rounds';
import { NEW_VALUE, OLD_VALUE, ROLLOUTS_ALARM, ROLLOUTS_KEY, ROLLOUTS_PREFIX, type RolloutsMode } from './support/rollouts-server-process';

export interface RolloutsRow {
  readonly mode: string;
  /** Config store writes of the revert (backend put/delete). */
  readonly storeWrites: number;
  /** Rollout record writes of the revert (the rollout store). */
  readonly recordWrites: number;
  readonly logEntries: number;
  readonly cacheWrites: number;
  readonly streamsReached: number;
  readonly streamsExpected: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** ALARM → the last stream that had to switch back had `old`: the median over the rounds. */
  readonly alarmToLastStreamMedianMs: number;
  /** ALARM → the revert's writes returned (rollouts: the driver's tick): the median over the rounds. */
  readonly alarmToWrittenMedianMs: number;
  /** Streams that got a change of the key in the revert although they must not; the worst round. */
  readonly wronglyNotified: number;
}

const MODE_LABEL: Record<RolloutsMode, string> = { rollouts: 'rollout (driver tick on ALARM)', 'per-tenant': 'per tenant (today)' };

interface Settings {
  readonly tenants: number;
  readonly streams: number;
  readonly overrideEvery: number;
  readonly perChannel: number;
  readonly waves: number[];
  readonly bakeSeconds: number;
  readonly tickMs: number;
  readonly writeConcurrency: number;
  readonly quietMs: number;
  readonly timeoutMs: number;
  readonly rounds: number;
  readonly gapMs: number;
}

interface Arrived extends LoadArrived {
  wronglyNotifiedOverriding: number;
}

interface Alarmed {
  at: number;
  tickStartedAt?: number;
  layerWrittenAt?: number;
  doneAt: number;
  state?: string;
  storeWrites: number;
  recordWrites: number;
  cacheWrites: number;
  logEntries: number;
}

async function runMode(mode: RolloutsMode, cfg: Settings): Promise<{ row: RolloutsRow; detail: Record<string, unknown> }> {
  let server: Child | undefined;
  let load: Child | undefined;
  try {
    const streamsPerTenant = Math.ceil(cfg.streams / cfg.tenants);
    server = forkTs('bench/support/rollouts-server-process.ts', {
      execArgv: ['--max-old-space-size=4096'],
      env: {
        ROLLOUTS_MODE: mode,
        ROLLOUTS_TENANTS: String(cfg.tenants),
        ROLLOUTS_OVERRIDE_EVERY: String(cfg.overrideEvery),
        ROLLOUTS_STREAMS_PER_TENANT: String(streamsPerTenant),
        ROLLOUTS_WRITE_CONCURRENCY: String(cfg.writeConcurrency),
        ROLLOUTS_TICK_MS: String(cfg.tickMs),
        ROLLOUTS_WAVES: cfg.waves.join(','),
        ROLLOUTS_BAKE_SECONDS: String(cfg.bakeSeconds),
      },
    });
    const failed = server.next<{ error: string }>('failed', 24 * 3600_000).then((f) => {
      throw new Error(`rollouts server: ${f.error}`);
    });
    failed.catch(() => undefined);
    const fromServer = <T>(type: string, timeoutMs: number) => Promise.race([server!.next<T>(type, timeoutMs), failed]);
    const ready = await fromServer<{ port: number; tokensFile: string; overriding: number; inWave: number; seeded: Record<string, number> }>('ready', 300_000);
    load = forkTs('bench/support/rollouts-load-process.ts', { execArgv: ['--max-old-space-size=4096'] });
    const opened = await openWatchStreams(load, `rollouts (${mode})`, {
      port: ready.port,
      tokensFile: ready.tokensFile,
      streams: cfg.streams,
      perChannel: cfg.perChannel,
      key: ROLLOUTS_KEY,
      prefix: ROLLOUTS_PREFIX,
    });
    await sleep(1000);
    const rounds: Array<Record<string, unknown>> = [];
    const pooled: number[] = [];
    const lastStream: number[] = [];
    const written: number[] = [];
    const worst = new WorstRound();
    let forwardWrongly = 0;
    let counts = { storeWrites: 0, recordWrites: 0, cacheWrites: 0, logEntries: 0 };
    for (let r = 1; r <= cfg.rounds; r++) {
      // The first wave goes live, and every in-wave stream has the new value.
      load.send({ type: 'arm', value: NEW_VALUE, percent: cfg.waves[0] });
      await load.next('armed');
      const forwardAt = Date.now();
      server.send({ type: 'forward', round: r });
      await fromServer('forwarded', cfg.timeoutMs);
      load.send({ type: 'await', timeoutMs: cfg.timeoutMs, quietMs: cfg.quietMs });
      const forward = await load.next<Arrived>('arrived', cfg.timeoutMs + cfg.quietMs + 30_000);
      if (forward.reached !== forward.expected) throw new Error(`round ${r}: the wave reached ${forward.reached} of ${forward.expected} streams`);
      const forwardMs = Date.now() - forwardAt - cfg.quietMs;
      // ALARM: the revert, timed per stream from just before the alarm was set.
      load.send({ type: 'arm', value: OLD_VALUE, percent: cfg.waves[0] });
      await load.next('armed');
      server.send({ type: 'alarm' });
      const alarmed = await fromServer<Alarmed>('alarmed', cfg.timeoutMs);
      load.send({ type: 'await', timeoutMs: cfg.timeoutMs, quietMs: cfg.quietMs });
      const back = await load.next<Arrived>('arrived', cfg.timeoutMs + cfg.quietMs + 30_000);
      server.send({ type: 'reset' });
      await fromServer('reset', 10_000);
      const times = back.arrivals.map((t) => t - alarmed.at);
      pooled.push(...times);
      const maxMs = times.length > 0 ? Math.max(...times) : Number.NaN;
      lastStream.push(maxMs);
      written.push(alarmed.doneAt - alarmed.at);
      if (r === 1)
        counts = { storeWrites: alarmed.storeWrites, recordWrites: alarmed.recordWrites, cacheWrites: alarmed.cacheWrites, logEntries: alarmed.logEntries };
      worst.add(back);
      forwardWrongly = Math.max(forwardWrongly, forward.wronglyNotified);
      const summary = {
        round: r,
        waveStreams: forward.expected,
        waveLiveMs: forwardMs,
        waveWronglyNotified: forward.wronglyNotified,
        storeWrites: alarmed.storeWrites,
        recordWrites: alarmed.recordWrites,
        logEntries: alarmed.logEntries,
        cacheWrites: alarmed.cacheWrites,
        ...(alarmed.state ? { rolloutState: alarmed.state } : {}),
        ...(alarmed.tickStartedAt !== undefined ? { alarmToTickStartMs: round(alarmed.tickStartedAt - alarmed.at, 1) } : {}),
        ...(alarmed.layerWrittenAt !== undefined ? { alarmToLayerWrittenMs: round(alarmed.layerWrittenAt - alarmed.at, 1) } : {}),
        alarmToWritesDoneMs: round(alarmed.doneAt - alarmed.at, 1),
        reached: back.reached,
        expected: back.expected,
        ...roundTimes(times),
        wronglyNotified: back.wronglyNotified,
        wronglyNotifiedOverriding: back.wronglyNotifiedOverriding,
      };
      rounds.push(summary);
      log(`rollouts (${mode}) round ${r}: ${JSON.stringify(summary)}`);
      await sleep(cfg.gapMs);
    }
    const row: RolloutsRow = {
      mode: MODE_LABEL[mode],
      ...counts,
      streamsReached: worst.reached,
      streamsExpected: worst.expected,
      ...pooledTimes(pooled),
      alarmToLastStreamMedianMs: median(lastStream),
      alarmToWrittenMedianMs: median(written),
      wronglyNotified: worst.wrongly,
    };
    log(`rollouts (${mode}): ${JSON.stringify(row)}`);
    return {
      row,
      detail: {
        mode,
        streamsOpen: opened.streams,
        channels: opened.channels,
        failedToOpen: opened.failed,
        overridingTenants: ready.overriding,
        inWaveTenants: ready.inWave,
        snapshotSources: opened.snapshotSources,
        seeded: ready.seeded,
        rounds,
        waveWronglyNotifiedWorst: forwardWrongly,
        ...worst.detail(),
      },
    };
  } finally {
    await load?.stop(5000);
    await server?.stop(5000);
  }
}

export async function runRollouts(): Promise<{ rows: RolloutsRow[]; text: string; results: unknown }> {
  const cfg: Settings = {
    tenants: envNumber('ROLLOUTS_TENANTS', 5000),
    streams: envNumber('ROLLOUTS_STREAMS', 10_000),
    overrideEvery: envNumber('ROLLOUTS_OVERRIDE_EVERY', 10),
    perChannel: envNumber('ROLLOUTS_PER_CHANNEL', 100),
    waves: envList('ROLLOUTS_WAVES', [50, 100]),
    bakeSeconds: envNumber('ROLLOUTS_BAKE_SECONDS', 3600),
    tickMs: envNumber('ROLLOUTS_TICK_MS', 250),
    writeConcurrency: envNumber('ROLLOUTS_WRITE_CONCURRENCY', 16),
    quietMs: envNumber('ROLLOUTS_QUIET_MS', 1000),
    timeoutMs: envNumber('ROLLOUTS_TIMEOUT_MS', 60_000),
    rounds: Math.max(1, envNumber('ROLLOUTS_ROUNDS', 5)),
    gapMs: envNumber('ROLLOUTS_GAP_MS', 500),
  };
  const modes = modesFromEnv<RolloutsMode>('ROLLOUTS_MODES', 'rollouts,per-tenant', MODE_LABEL);
  const { rows, details } = await runModes(modes, (mode) => runMode(mode, cfg));
  const rollout = rows.find((r) => r.mode === MODE_LABEL.rollouts);
  const checks = rollout && {
    storeWrites: { expected: 1, measured: rollout.storeWrites, met: rollout.storeWrites === 1 },
    logEntries: { expected: 1, measured: rollout.logEntries, met: rollout.logEntries === 1 },
    everyStreamSwitched: rollout.streamsReached === rollout.streamsExpected,
    wronglyNotified: { expected: 0, measured: rollout.wronglyNotified, met: rollout.wronglyNotified === 0 },
  };
  const results = {
    rows,
    metadata: {
      benchmark: 'rollouts',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      settings: { ...cfg, key: ROLLOUTS_KEY, prefixes: [ROLLOUTS_PREFIX], alarm: ROLLOUTS_ALARM, values: { old: OLD_VALUE, new: NEW_VALUE } },
      setup:
        'server: child process running startFanoutServer with FanoutLayers over an in-memory backend, tenant registry and versioned cache + change log (no store latency), and in rollouts mode the local rollout driver (RolloutService over a ConfigService writing into the same backend and cache, in-memory rollout store, LocalAlarms, startRolloutTimer); load: another child process, streams multiplexed over channels',
      time: "from just before the alarm's set to ALARM to each in-wave stream's change back to the old value (wall clocks of one machine); per tenant, the writes start at the alarm (no tick)",
      expected: 'the streams of tenants without their own value whose bucket is below the first wave; every other stream gets nothing',
      details,
      checks,
    },
  };
  writeResults('rollouts', results);
  const text = [
    `rollouts — rollback on ALARM, ${cfg.tenants} tenants (every ${cfg.overrideEvery}th with its own value), ${cfg.streams} Watch streams on one fanout process, ${cfg.perChannel} per channel; first wave ${cfg.waves[0]} %, driver tick ${cfg.tickMs} ms + at once on ALARM; ${cfg.rounds} rounds per mode (p50/p99/max over every switched stream of every round); per tenant: ${cfg.writeConcurrency} writes at a time from the alarm`,
    table(
      [
        'mode',
        'store writes',
        'record writes',
        'log entries',
        'cache writes',
        'streams switched / expected',
        'p50 ms',
        'p99 ms',
        'max ms',
        'ALARM → last stream switched ms (median round)',
        'ALARM → writes done ms (median)',
        'streams wrongly notified',
      ],
      rows.map((r) => [
        r.mode,
        r.storeWrites,
        r.recordWrites,
        r.logEntries,
        r.cacheWrites,
        `${r.streamsReached} / ${r.streamsExpected}`,
        r.p50Ms,
        r.p99Ms,
        r.maxMs,
        r.alarmToLastStreamMedianMs,
        r.alarmToWrittenMedianMs,
        r.wronglyNotified,
      ]),
    ),
    checks &&
      `checks (rollout): 1 store write ${checks.storeWrites.met ? 'met' : `NOT met (${checks.storeWrites.measured})`}, 1 log entry ${checks.logEntries.met ? 'met' : `NOT met (${checks.logEntries.measured})`}, every stream switched ${checks.everyStreamSwitched ? 'yes' : 'NO'}, streams wrongly notified ${rollout.wronglyNotified}`,
    `machine: ${describeMachine(machineInfo())}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { rows, text, results };
}

if (require.main === module) {
  runAsScript('rollouts', runRollouts);
}
