/**
 * The SDK comes back promptly after the whole local system restarts mid-stream: writes go on
 * through the HTTP API while the system is stopped and started again on the same ports, several
 * times; after each restart the client must be `live` and hold exactly the store's latest
 * versions within the documented recovery bound (plus a margin for a loaded machine).
 *
 * The stream's own schedule is made slow on purpose (a 30 s base, every jitter draw at the top of
 * its range): left to it, the client would wait about 30 s. The bound does not depend on it: it
 * comes from the HTTP fallback retrying on its own short schedule and retrying the stream as soon
 * as it is answered, and from the lower cap while HTTP answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigClient, recoveryBoundMs, type ConfigClientStatus } from '../../client';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { freePort } from '../support/servers';
import { LocalApi } from './local-api';
import { slowStreamRecovery } from '../client/support/wait';

const ROUNDS = 3;
const KEYS = ['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:c', 'tenantconfig:d', 'tenantconfig:e'];
/** How long the system stays down: long enough for stream attempts and HTTP loads to fail. */
const DOWN_MS = 1_000;
/** Time for the new system to start answering, one HTTP load and one snapshot on a busy 2-core machine. */
const MARGIN_MS = 10_000;

const RECOVERY = slowStreamRecovery({ backoffCapWhileHttpUpMs: 1_000, httpRetryCapMs: 500, reconnectJitterMs: 200 });
const BOUND_MS = recoveryBoundMs(RECOVERY);

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sameVersions = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * One PUT on a connection of its own (`agent: false`): a writer reusing a keep-alive connection
 * without pause keeps the local HTTP front's close() waiting, and the restart would never happen.
 */
function put(baseUrl: string, key: string, token: string, value: unknown): Promise<number> {
  const body = JSON.stringify({ value });
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}/v1/config/${key}`,
      { method: 'PUT', agent: false, timeout: 5_000, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes to the keys in turn until stopped; failures while the system is down are expected and ignored. */
class Writer {
  private running?: Promise<void>;
  private stopRequested = false;
  accepted = 0;

  constructor(
    private readonly baseUrl: () => string,
    private readonly token: string,
  ) {}

  start(): void {
    this.stopRequested = false;
    this.running = (async () => {
      for (let i = 0; !this.stopRequested; i++) {
        try {
          const status = await put(this.baseUrl(), KEYS[i % KEYS.length], this.token, { n: i });
          if (status === 200 || status === 201) this.accepted += 1;
        } catch {
          // connection refused while the system is down
        }
        await sleep(30);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.running;
  }
}

describe('client SDK across restarts of the whole local system', () => {
  let dir: string;
  let system: LocalSystem | undefined;
  let client: ConfigClient | undefined;
  let ports: { port: number; grpcPort: number };

  const start = async () => {
    system = await startLocalSystem({ dir, ...ports, fanoutDrainMs: 1_000 });
    return system;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-sdk-restart-'));
    ports = { port: await freePort(), grpcPort: await freePort() };
  });
  afterAll(async () => {
    await client?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`is live and equal to the store within the recovery bound after each of ${ROUNDS} restarts, writes going on`, async () => {
    // arrange: a live client of tenant acme over the stream, with the HTTP fallback
    let current = await start();
    const admin = current.signer.signToken({ tenant: 'acme', admin: true });
    const reader = current.signer.signToken({ tenant: 'acme', admin: false });
    const api = () => new LocalApi(current.endpoints.http);
    for (const key of KEYS) expect((await api().put(`/v1/config/${key}`, admin, { n: -1 })).status).toBe(201);
    client = new ConfigClient({
      grpcTarget: current.endpoints.grpc,
      httpBaseUrl: current.endpoints.http,
      token: () => reader,
      prefixes: ['tenantconfig:'],
      logger: process.env.SDK_DEBUG ? console : quiet,
      ...RECOVERY,
    });
    const statuses: ConfigClientStatus[] = [];
    client.onStatus((s) => statuses.push(s));
    await client.start();
    expect(client.status).toBe('live');
    const writer = new Writer(() => current.endpoints.http, admin);

    const storeVersions = async (): Promise<Record<string, number>> => {
      const listing = await api().listAll('prefix=tenantconfig:', reader);
      return Object.fromEntries(listing.items.map((i: { key: string; version: number }) => [i.key, i.version]));
    };
    const clientVersions = (): Record<string, number> => Object.fromEntries(client!.keys().map((k) => [k, client!.getItem(k)!.version]));

    for (let round = 1; round <= ROUNDS; round++) {
      // act: writes flow over the live stream, then the whole system goes down and comes back on the same ports
      writer.start();
      await sleep(300);
      const interruptedBefore = statuses.filter((s) => s === 'interrupted').length;
      await current.stop();
      await sleep(DOWN_MS);
      current = await start();
      const backAt = Date.now();
      await sleep(300); // writes after the restart, too
      await writer.stop();
      const store = await storeVersions();

      // assert: live, holding exactly the store's versions, by the bound (plus margin) after the service answers
      const deadline = backAt + BOUND_MS + MARGIN_MS;
      while (!(client.status === 'live' && sameVersions(clientVersions(), store))) {
        if (Date.now() > deadline) {
          throw new Error(
            `round ${round}: not live and equal to the store ${BOUND_MS} + ${MARGIN_MS} ms after the restart: ` +
              `status ${client.status} (${client.statusReport.lastError ?? ''}), client ${JSON.stringify(clientVersions())}, store ${JSON.stringify(store)}`,
          );
        }
        await sleep(20);
      }
      expect(statuses.filter((s) => s === 'interrupted').length).toBeGreaterThan(interruptedBefore);
      expect(Object.keys(store).sort()).toEqual(KEYS);
    }
    expect(writer.accepted).toBeGreaterThan(ROUNDS * 5);
  }, 180_000);
});
