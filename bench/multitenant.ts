/**
 * Benchmark: one SDK process following the whole fleet (`tenants: 'all'`, one service token, one
 * connection) against today's way, one single-tenant ConfigClient per tenant, side by side in one
 * run against the same local system (child process) seeded with MT_TENANTS × MT_KEYS items.
 *
 * Per system: connections to the fanout (established TCP sockets of the SDK process to the gRPC
 * port), RSS over the process's own baseline (after GC) against the bytes of data held (key, value
 * JSON, updatedAt, updatedBy), time from start() to live, and propagation of MT_CHANGES writes
 * (one at a time, to tenants both systems hold) from the write's 2xx (and from the PUT sent) to
 * the listener. For on-demand mode: cold `forTenantReady` latency for MT_COLD tenants in turn.
 *
 * Each SDK runs in its own child process (this file, with MT_ROLE), so RSS is its own.
 * Settings (env): MT_TENANTS (5000), MT_KEYS (20), MT_SINGLE (300 single-tenant clients),
 * MT_CHANGES (200), MT_COLD (50), MT_LIVE_TIMEOUT_MS (180000).
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigClient } from '../client';
import { startLocalSystem } from '../local/system';
import { forkTs, type Child } from './support/child';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, percentile, round, table, writeResults } from './support/report';
import { keyName, seedTable, tenantName } from './support/seed';

interface SystemInfo {
  readonly type: 'ready';
  readonly http: string;
  readonly grpc: string;
  readonly dynamodb: string;
  readonly region: string;
  readonly table: string;
  readonly serviceToken: string;
  readonly readerTokens: Record<string, string>;
  readonly adminTokens: Record<string, string>;
}

interface SdkReport {
  readonly type: 'live';
  readonly ok: boolean;
  readonly error?: string;
  readonly tenants: number;
  readonly items: number;
  readonly dataBytes: number;
  readonly rssBytes: number;
  readonly heapBytes: number;
  readonly connections: number;
  readonly timeToLiveMs: number;
}

export interface MultitenantRow {
  readonly system: string;
  readonly tenants: number;
  readonly connections: number | string;
  readonly rssMiB: number | string;
  readonly rssPerDataByte: number | string;
  readonly timeToLiveMs: number | string;
  readonly propagationP50Ms: number | string;
  readonly propagationP99Ms: number | string;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const nowMs = (): number => performance.timeOrigin + performance.now();
const MiB = 1024 * 1024;

/** Established TCP connections of this process to `port` (Linux /proc). */
function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue;
      if (parseInt(f[2].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m && inodes.has(m[1])) count += 1;
    } catch {
      // fd closed meanwhile
    }
  }
  return count;
}

function settledMemory(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

// ── child roles ─────────────────────────────────────────────────────────────

async function systemRole(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mt-'));
  const system = await startLocalSystem({ dir, port: 0, grpcPort: 0, fanoutDrainMs: 200 });
  const e = system.endpoints;
  const single = envNumber('MT_SINGLE', 300);
  const readerTokens: Record<string, string> = {};
  const adminTokens: Record<string, string> = {};
  for (let i = 0; i < single; i++) {
    const t = tenantName(i);
    readerTokens[t] = system.signer.signToken({ tenant: t, ttlSeconds: 7200 });
    adminTokens[t] = system.signer.signToken({ tenant: t, admin: true, ttlSeconds: 7200 });
  }
  const ready: SystemInfo = {
    type: 'ready',
    http: e.http,
    grpc: e.grpc,
    dynamodb: e.dynamodb,
    region: e.region,
    table: e.table,
    serviceToken: system.signer.signServiceToken({ service: 'bench', ttlSeconds: 7200 }),
    readerTokens,
    adminTokens,
  };
  const stop = async (): Promise<void> => {
    await system.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.send?.(ready);
}

async function sdkRole(kind: 'all' | 'single'): Promise<void> {
  // A file, not the environment: 5,000 tenants' tokens are more than an environment may hold (E2BIG).
  const sys = JSON.parse(readFileSync(process.env.MT_SYSTEM_FILE as string, 'utf8')) as SystemInfo;
  const port = Number(sys.grpc.split(':').pop());
  const before = settledMemory();
  const clients: ConfigClient[] = [];
  const started = performance.now();
  const fired = (tenantId: string | undefined, key: string, version: number): void => {
    process.send?.({ type: 'fired', id: `${tenantId}/${key}@${version}`, at: nowMs() });
  };
  let report: SdkReport;
  try {
    if (kind === 'all') {
      const client = new ConfigClient({ grpcTarget: sys.grpc, token: () => sys.serviceToken, tenants: 'all', logger: quiet });
      clients.push(client);
      client.onChange((c) => fired(c.tenantId, c.key, c.version));
      await withTimeout(client.start(), envNumber('MT_LIVE_TIMEOUT_MS', 180_000), "'all' client live");
    } else {
      for (const [tenant, token] of Object.entries(sys.readerTokens)) {
        const client = new ConfigClient({ grpcTarget: sys.grpc, token: () => token, logger: quiet });
        clients.push(client);
        client.onChange((c) => fired(tenant, c.key, c.version));
      }
      await withTimeout(Promise.all(clients.map((c) => c.start())), envNumber('MT_LIVE_TIMEOUT_MS', 180_000), 'single-tenant clients live');
    }
    const timeToLiveMs = performance.now() - started;
    let items = 0;
    let dataBytes = 0;
    let tenants = 0;
    const count = (list: Array<{ key: string; value: unknown; updatedAt: string; updatedBy: string }>): void => {
      for (const i of list) {
        items += 1;
        dataBytes += Buffer.byteLength(i.key) + Buffer.byteLength(JSON.stringify(i.value)) + Buffer.byteLength(i.updatedAt) + Buffer.byteLength(i.updatedBy);
      }
    };
    if (kind === 'all') {
      const client = clients[0];
      for (const t of client.heldTenants()) {
        const view = client.forTenant(t);
        tenants += 1;
        count(view.keys().map((k) => view.getItem(k)!));
      }
    } else {
      for (const c of clients) {
        tenants += 1;
        count(c.keys().map((k) => c.getItem(k)!));
      }
    }
    const after = settledMemory();
    report = {
      type: 'live',
      ok: true,
      tenants,
      items,
      dataBytes,
      rssBytes: after.rss - before.rss,
      heapBytes: after.heap - before.heap,
      connections: connectionsTo(port),
      timeToLiveMs,
    };
  } catch (error) {
    report = {
      type: 'live',
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      tenants: 0,
      items: 0,
      dataBytes: 0,
      rssBytes: 0,
      heapBytes: 0,
      connections: connectionsTo(port),
      timeToLiveMs: NaN,
    };
  }
  process.send?.(report);
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'cold') void coldReads(sys).then((ms) => process.send?.({ type: 'cold', ms }));
    if (m?.type === 'stop') void Promise.all(clients.map((c) => c.close())).then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

/** On demand: forTenantReady of tenants not held yet, one after another. */
async function coldReads(sys: SystemInfo): Promise<number[]> {
  const client = new ConfigClient({ grpcTarget: sys.grpc, token: () => sys.serviceToken, tenants: 'on-demand', logger: quiet });
  const out: number[] = [];
  try {
    await client.start();
    const total = envNumber('MT_TENANTS', 5000);
    for (let i = 0; i < envNumber('MT_COLD', 50); i++) {
      const t = tenantName((i * 97) % total);
      const began = performance.now();
      await withTimeout(client.forTenantReady(t), 30_000, `cold read of ${t}`);
      out.push(performance.now() - began);
    }
  } catch {
    // what was measured is reported
  } finally {
    await client.close();
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ── parent ──────────────────────────────────────────────────────────────────

interface Measured {
  readonly report: SdkReport;
  readonly fromAck: number[];
  readonly fromSend: number[];
  readonly missed: number;
  readonly coldMs?: number[];
}

async function measure(kind: 'all' | 'single', sys: SystemInfo, writes: Array<{ tenant: string; key: string }>): Promise<Measured> {
  const fired = new Map<string, number>();
  const systemFile = join(mkdtempSync(join(tmpdir(), 'bench-mt-')), 'system.json');
  writeFileSync(systemFile, JSON.stringify(sys));
  const child: Child = forkTs('bench/multitenant.ts', { env: { MT_ROLE: `sdk-${kind}`, MT_SYSTEM_FILE: systemFile }, execArgv: ['--expose-gc'] });
  child.process.on('message', (m: { type?: string; id?: string; at?: number }) => {
    if (m.type === 'fired' && m.id && m.at) fired.set(m.id, m.at);
  });
  try {
    const report = await child.next<SdkReport>('live', envNumber('MT_LIVE_TIMEOUT_MS', 180_000) + 30_000);
    log(
      `multitenant: ${kind} ${report.ok ? `live in ${round(report.timeToLiveMs, 0)} ms, ${report.tenants} tenants, ${report.connections} connection(s)` : `FAILED: ${report.error}`}`,
    );
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    let missed = 0;
    if (report.ok) {
      for (const [i, w] of writes.entries()) {
        const sentAt = nowMs();
        const res = await fetch(`${sys.http}/v1/config/${encodeURIComponent(w.key)}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${sys.adminTokens[w.tenant]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ value: { kind, i } }),
        });
        const ackAt = nowMs();
        if (!res.ok) throw new Error(`PUT ${w.key} of ${w.tenant}: HTTP ${res.status}`);
        const { version } = (await res.json()) as { version: number };
        const id = `${w.tenant}/${w.key}@${version}`;
        const deadline = Date.now() + 5000;
        while (!fired.has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
        const at = fired.get(id);
        if (at === undefined) missed += 1;
        else {
          fromAck.push(Math.max(0, at - ackAt));
          fromSend.push(at - sentAt);
        }
      }
    }
    let coldMs: number[] | undefined;
    if (kind === 'all') {
      child.send({ type: 'cold' });
      coldMs = (await child.next<{ ms: number[] }>('cold', 300_000)).ms;
    }
    return { report, fromAck, fromSend, missed, coldMs };
  } finally {
    await child.stop();
  }
}

export async function runMultitenant(): Promise<{ rows: MultitenantRow[]; text: string; results: unknown }> {
  const cfg = {
    tenants: envNumber('MT_TENANTS', 5000),
    keys: envNumber('MT_KEYS', 20),
    single: envNumber('MT_SINGLE', 300),
    changes: envNumber('MT_CHANGES', 200),
  };
  let system: Child | undefined;
  try {
    log('multitenant: starting the local system in a child process');
    system = forkTs('bench/multitenant.ts', { env: { MT_ROLE: 'system', MT_SINGLE: String(cfg.single) } });
    const sys = await system.next<SystemInfo>('ready');
    log(`multitenant: seeding ${cfg.tenants} tenants × ${cfg.keys} keys`);
    const dynamodb = new DynamoDBClient({ endpoint: sys.dynamodb, region: sys.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const seedSeconds = await seedTable(dynamodb, sys.table, { tenants: cfg.tenants, keysPerTenant: cfg.keys });
    dynamodb.destroy();
    const writes = Array.from({ length: cfg.changes }, (_, i) => ({ tenant: tenantName((i * 7) % cfg.single), key: keyName(i % cfg.keys) }));

    const all = await measure('all', sys, writes);
    const single = await measure('single', sys, writes);

    const row = (name: string, m: Measured): MultitenantRow => ({
      system: name,
      tenants: m.report.tenants,
      connections: m.report.ok ? m.report.connections : 'failed',
      rssMiB: m.report.ok ? round(m.report.rssBytes / MiB, 1) : '-',
      rssPerDataByte: m.report.ok && m.report.dataBytes > 0 ? round(m.report.rssBytes / m.report.dataBytes, 2) : '-',
      timeToLiveMs: m.report.ok ? round(m.report.timeToLiveMs, 0) : '-',
      propagationP50Ms: m.fromAck.length ? round(percentile(m.fromAck, 50)) : '-',
      propagationP99Ms: m.fromAck.length ? round(percentile(m.fromAck, 99)) : '-',
    });
    const rows = [row("one client, tenants: 'all' (one service token)", all), row(`one single-tenant client per tenant (${cfg.single})`, single)];
    const cold = all.coldMs ?? [];
    const p99All = rows[0].propagationP99Ms;
    const p99Single = rows[1].propagationP99Ms;
    const targets = {
      oneConnection: all.report.ok && all.report.connections === 1,
      rssAtMost3xData: all.report.ok && all.report.rssBytes <= 3 * all.report.dataBytes,
      propagationP99NoWorse: typeof p99All === 'number' && typeof p99Single === 'number' && p99All <= Math.max(p99Single, 1),
    };
    const results = {
      rows,
      metadata: {
        benchmark: 'multitenant',
        measuredAt: new Date().toISOString(),
        machine: machineInfo(),
        settings: cfg,
        seedSeconds,
        all: {
          ...all.report,
          missed: all.missed,
          fromSendMs: all.fromSend.length ? { p50: round(percentile(all.fromSend, 50)), p99: round(percentile(all.fromSend, 99)) } : undefined,
        },
        single: {
          ...single.report,
          missed: single.missed,
          fromSendMs: single.fromSend.length ? { p50: round(percentile(single.fromSend, 50)), p99: round(percentile(single.fromSend, 99)) } : undefined,
        },
        coldForTenantMs: cold.length
          ? { n: cold.length, p50: round(percentile(cold, 50)), p99: round(percentile(cold, 99)), max: round(Math.max(...cold)) }
          : { n: 0 },
        targets,
        note: 'RSS and heap are growth over the SDK process baseline after GC; data bytes = key + value JSON + updatedAt + updatedBy per item held',
      },
    };
    writeResults('multitenant', results);
    const text = [
      `multitenant — ${cfg.tenants} tenants × ${cfg.keys} keys; ${cfg.changes} writes to tenants both hold`,
      table(
        ['system', 'tenants', 'connections', 'RSS MiB', 'RSS/data', 'to live ms', 'prop p50 ms', 'prop p99 ms'],
        rows.map((r) => [r.system, r.tenants, r.connections, r.rssMiB, r.rssPerDataByte, r.timeToLiveMs, r.propagationP50Ms, r.propagationP99Ms]),
      ),
      `on demand, cold forTenantReady: ${cold.length ? `p50 ${round(percentile(cold, 50))} ms, p99 ${round(percentile(cold, 99))} ms (n=${cold.length})` : 'not measured'}`,
      `targets: 1 connection ${targets.oneConnection ? 'met' : 'NOT met'}; RSS ≤ 3× data ${targets.rssAtMost3xData ? 'met' : 'NOT met'}; p99 no worse than single-tenant ${targets.propagationP99NoWorse ? 'met' : 'NOT met'}`,
      ...(all.report.ok ? [] : [`'all' client: ${all.report.error}`]),
      `machine: ${describeMachine(machineInfo())}`,
    ].join('\n');
    return { rows, text, results };
  } finally {
    await system?.stop();
  }
}

if (require.main === module) {
  const role = process.env.MT_ROLE;
  const main = role === 'system' ? systemRole : role === 'sdk-all' ? () => sdkRole('all') : role === 'sdk-single' ? () => sdkRole('single') : undefined;
  if (main) {
    main().catch((error: unknown) => {
      process.stderr.write(`multitenant ${role}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
  } else {
    runMultitenant().then(
      ({ text }) => {
        process.stdout.write(`${text}\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`multitenant: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exit(1);
      },
    );
  }
}
