/**
 * Benchmark: a write through the HTTP API → the listener of an SDK (ConfigClient) subscribed
 * over gRPC fires, through the whole local system in one child process (HTTP front → config-api
 * → DynamoDB backend via the stream proxy → the cache + change log (the API's own write-through,
 * and the stream record → local Pipe → bus → cache-refresh; whichever lands first appends the
 * change, the other is a no-op by the version guard) → fanout's log reader → Watch stream → SDK).
 *
 * Changes are made one at a time (the next after the listener fired), over PROPAGATION_KEYS keys.
 * The headline is from the write's acceptance (its 2xx response reaching the writer; a listener
 * that fired before that counts as 0) to the listener; a second row is from the PUT being sent,
 * so it includes the write itself.
 *
 * Beside it, from the same change timestamps: polling clients (AppConfig's default 45 s, and 5 s).
 * A poller sees a change at its next poll; with a uniformly random poll phase per change the
 * delay is U(0, interval) (plus the poll's own round trip, left out: it only adds).
 *
 * Settings (env): PROPAGATION_CHANGES (1000), PROPAGATION_KEYS (10).
 */
import { ConfigClient } from '../client';
import { forkTs, type Child } from './support/child';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, percentile, round, table, writeResults, runAsScript } from './support/report';
import type { SystemReady } from './support/system-process';
import { seededRandom } from './support/zipf';

export interface PropagationRow {
  readonly system: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const TARGET_P99_MS = 50;
const POLL_INTERVALS = [
  { system: 'poll every 45 s (AppConfig default)', ms: 45_000 },
  { system: 'poll every 5 s', ms: 5_000 },
];

export async function runPropagation(): Promise<{ rows: PropagationRow[]; text: string; results: unknown }> {
  const cfg = { changes: envNumber('PROPAGATION_CHANGES', 1000), keys: envNumber('PROPAGATION_KEYS', 10) };
  let child: Child | undefined;
  let client: ConfigClient | undefined;
  try {
    log('propagation: starting the local system in a child process');
    child = forkTs('bench/support/system-process.ts');
    const sys = await child.next<SystemReady>('ready');
    const keys = Array.from({ length: cfg.keys }, (_, i) => `tenantconfig:bench/prop/k${i}`);
    const put = async (key: string, value: unknown): Promise<{ version: number; ackAt: number }> => {
      const res = await fetch(`${sys.http}/v1/config/${encodeURIComponent(key)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${sys.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
      });
      const ackAt = performance.now();
      if (!res.ok) throw new Error(`PUT ${key}: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { version: number };
      return { version: body.version, ackAt };
    };
    for (const key of keys) await put(key, { i: -1 });

    client = new ConfigClient({
      grpcTarget: sys.grpc,
      token: () => sys.readerToken,
      prefixes: ['tenantconfig:bench/prop/'],
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const fired = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    client.onChange((change) => {
      const id = `${change.key}@${change.version}`;
      fired.set(id, performance.now());
      waiters.get(id)?.();
    });
    await client.start();

    log(`propagation: ${cfg.changes} changes, one at a time`);
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    const changeTimes: number[] = [];
    let missed = 0;
    for (let i = 0; i < cfg.changes; i++) {
      const key = keys[i % keys.length];
      const sentAt = performance.now();
      const { version, ackAt } = await put(key, { i });
      const id = `${key}@${version}`;
      if (!fired.has(id)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            missed += 1;
            resolve();
          }, 5000);
          waiters.set(id, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        waiters.delete(id);
      }
      const at = fired.get(id);
      if (at === undefined) continue;
      fromSend.push(at - sentAt);
      fromAck.push(at - ackAt);
      changeTimes.push(ackAt);
    }

    // Accepted = the 2xx reached the writer; a listener that fired even earlier counts as 0.
    const fromAccepted = fromAck.map((ms) => Math.max(0, ms));
    const rows: PropagationRow[] = [
      {
        system: `push: write accepted → SDK listener (${sys.cache} cache)`,
        p50Ms: round(percentile(fromAccepted, 50)),
        p99Ms: round(percentile(fromAccepted, 99)),
      },
      { system: 'push: PUT sent → SDK listener (incl. the write)', p50Ms: round(percentile(fromSend, 50)), p99Ms: round(percentile(fromSend, 99)) },
    ];
    const random = seededRandom(7);
    const pollers = POLL_INTERVALS.map((p) => {
      // Next poll after each change, with the poller's phase uniformly random per change.
      const delays = changeTimes.map((t) => {
        const phase = random() * p.ms;
        return (((phase - t) % p.ms) + p.ms) % p.ms;
      });
      return {
        system: p.system,
        p50Ms: round(percentile(delays, 50), 0),
        p99Ms: round(percentile(delays, 99), 0),
        meanMs: round(delays.reduce((a, b) => a + b, 0) / delays.length, 0),
      };
    });
    rows.push(...pollers.map(({ system, p50Ms, p99Ms }) => ({ system, p50Ms, p99Ms })));
    const push = rows[0];
    const metadata = {
      benchmark: 'propagation',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      setup: 'server: one child process running startLocalSystem; writer (fetch) and SDK (ConfigClient over gRPC) in the parent process',
      changes: cfg.changes,
      measured: fromSend.length,
      missed,
      keys: cfg.keys,
      push: {
        fromRequestSentMs: {
          p50: round(percentile(fromSend, 50)),
          p90: round(percentile(fromSend, 90)),
          p99: round(percentile(fromSend, 99)),
          max: round(Math.max(...fromSend)),
        },
        fromResponseReceivedMs: {
          p50: round(percentile(fromAck, 50)),
          p99: round(percentile(fromAck, 99)),
          max: round(Math.max(...fromAck)),
          listenerBeforeResponse: fromAck.filter((ms) => ms < 0).length,
        },
        note: 'headline = from the 2xx response, negatives (listener fired before the writer saw the response) counted as 0; the PUT itself (stream proxy + read-modify-write on dynalite) is the row from request sent',
      },
      pollers: pollers.map((p) => ({ ...p, model: 'delay = time to the next poll, poll phase uniformly random per change; the poll round trip not added' })),
      target: { p99Ms: `≤ ${TARGET_P99_MS}`, met: push.p99Ms <= TARGET_P99_MS },
    };
    const results = { rows, metadata };
    writeResults('propagation', results);
    const text = [
      `propagation — ${fromSend.length} changes (${missed} missed) through the local system; pollers modelled on the same change times`,
      table(
        ['system', 'p50 ms', 'p99 ms'],
        rows.map((r) => [r.system, r.p50Ms, r.p99Ms]),
      ),
      `listener before the writer saw its 2xx: ${metadata.push.fromResponseReceivedMs.listenerBeforeResponse} of ${fromAck.length}; target p99 ≤ ${TARGET_P99_MS} ms: ${metadata.target.met ? 'met' : 'NOT met'}`,
      `machine: ${describeMachine(metadata.machine)}`,
    ].join('\n');
    return { rows, text, results };
  } finally {
    await client?.close().catch(() => undefined);
    await child?.stop();
  }
}

if (require.main === module) {
  runAsScript('propagation', runPropagation);
}
