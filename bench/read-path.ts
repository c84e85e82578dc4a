/**
 * Benchmark: reads through the local HTTP front (the local API Gateway: route match, JWT check,
 * payload-format 2.0 event, the config-api handler), cached vs uncached, under load.
 *
 * - Server: one child process running the integrated local system (startLocalSystem: its front
 *   reads through CachedItemReader over the versioned cache — redis-server when on PATH — in
 *   front of DynamoDB on dynalite), plus a second front in the same process with the same
 *   handler and no cache (every read a GetItem on dynalite, in that process too).
 * - Load: autocannon in this (parent) process, one system after the other. On 2 cores the server
 *   process and the load generator each get about one core; neither is pinned.
 * - Requests: GET /v1/config/{key} with a reader token, cycling over READPATH_KEYS keys.
 *
 * Settings (env): READPATH_DURATION_S (10 per system), READPATH_CONNECTIONS (50),
 * READPATH_KEYS (100), READPATH_WARMUP_S (2).
 */
import autocannon from 'autocannon';
import { forkTs, type Child } from './support/child';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, round, table, writeResults, runAsScript } from './support/report';
import type { SystemReady } from './support/system-process';

export interface ReadPathRow {
  readonly system: string;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const TARGET_CACHED_RPS = 5000;

export async function runReadPath(): Promise<{ rows: ReadPathRow[]; text: string; results: unknown }> {
  const cfg = {
    durationS: envNumber('READPATH_DURATION_S', 10),
    warmupS: envNumber('READPATH_WARMUP_S', 2),
    connections: envNumber('READPATH_CONNECTIONS', 50),
    keys: envNumber('READPATH_KEYS', 100),
  };
  let child: Child | undefined;
  try {
    log('read-path: starting the local system in a child process');
    child = forkTs('bench/support/system-process.ts', {
      execArgv: process.env.READPATH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.READPATH_PROFILE}`] : [],
    });
    const sys = await child.next<SystemReady>('ready');
    const keys = Array.from({ length: cfg.keys }, (_, i) => `tenantconfig:bench/read/k${String(i).padStart(3, '0')}`);
    for (const key of keys) {
      const res = await fetch(`${sys.http}/v1/config/${encodeURIComponent(key)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${sys.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value: { plan: 'gold', limits: { rps: 100, burst: 200 }, key } }),
      });
      if (!res.ok) throw new Error(`seeding ${key}: HTTP ${res.status} ${await res.text()}`);
    }
    const requests = keys.map((key) => ({ method: 'GET', path: `/v1/config/${encodeURIComponent(key)}` }));
    const headers = { authorization: `Bearer ${sys.readerToken}` };
    const systems = [
      { system: `cached (${sys.cache})`, url: sys.http },
      { system: 'uncached (dynalite)', url: sys.uncachedHttp },
    ];
    const rows: ReadPathRow[] = [];
    const details: Record<string, unknown>[] = [];
    for (const s of systems) {
      if (cfg.warmupS > 0) await autocannon({ url: s.url, connections: cfg.connections, duration: cfg.warmupS, headers, requests });
      log(`read-path: ${s.system} for ${cfg.durationS} s, ${cfg.connections} connections`);
      const r = await autocannon({ url: s.url, connections: cfg.connections, duration: cfg.durationS, headers, requests });
      if (r.non2xx > 0 || r.errors > 0) log(`read-path: ${s.system}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      rows.push({ system: s.system, reqPerSec: round(r.requests.average, 0), p50Ms: r.latency.p50, p99Ms: r.latency.p99 });
      details.push({
        system: s.system,
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        latencyMeanMs: round(r.latency.mean),
        latencyMaxMs: r.latency.max,
      });
    }
    const cached = rows[0];
    const metadata = {
      benchmark: 'read-path',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      setup:
        'server: one child process running startLocalSystem (HTTP front → JWT authorizer → config-api handler → CachedItemReader → versioned cache) and a second front with the same handler and no cache; load: autocannon in the parent process, systems one after another',
      durationSeconds: cfg.durationS,
      warmupSeconds: cfg.warmupS,
      connections: cfg.connections,
      keys: cfg.keys,
      request: 'GET /v1/config/{key} with a reader Bearer token (RS256 verified per request)',
      details,
      target: { cachedReqPerSec: `≥ ${TARGET_CACHED_RPS}`, met: cached.reqPerSec >= TARGET_CACHED_RPS },
    };
    const results = { rows, metadata };
    writeResults('read-path', results);
    const text = [
      `read-path — GET /v1/config/{key} through the local HTTP front, ${cfg.connections} connections, ${cfg.durationS} s each`,
      table(
        ['system', 'req/s', 'p50 ms', 'p99 ms'],
        rows.map((r) => [r.system, r.reqPerSec, r.p50Ms, r.p99Ms]),
      ),
      `target ≥ ${TARGET_CACHED_RPS} cached req/s: ${metadata.target.met ? 'met' : 'NOT met'}`,
      `machine: ${describeMachine(metadata.machine)}`,
    ].join('\n');
    return { rows, text, results };
  } finally {
    await child?.stop();
  }
}

if (require.main === module) {
  runAsScript('read-path', runReadPath);
}
