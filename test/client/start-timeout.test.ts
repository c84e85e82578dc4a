/**
 * start() settles: with nothing answering it rejects, within its timeout, with a typed error that
 * says what it tried (the stream's address, the HTTP fallback, the snapshot file); a state from
 * the snapshot file or `bootstrap` resolves it instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_CLIENT_DEFAULTS, ConfigClient, ConfigClientOptionsError, ConfigClientStartTimeoutError } from '../../client';
import { freePort } from '../support/servers';
import { fastTestOptions } from './support/wait';

const clients: ConfigClient[] = [];
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdk-start-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

function newClient(options: Partial<ConstructorParameters<typeof ConfigClient>[0]> & { grpcTarget: string }): ConfigClient {
  const client = new ConfigClient({ ...fastTestOptions(), ...options } as ConstructorParameters<typeof ConfigClient>[0]);
  clients.push(client);
  return client;
}

describe('start() with nothing to answer', () => {
  it('rejects after timeoutMs with ConfigClientStartTimeoutError naming the stream, the HTTP fallback and the snapshot file', async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const snapshotFile = join(dir, 'config.json');
    const client = newClient({ grpcTarget: `127.0.0.1:${grpcPort}`, httpBaseUrl: `http://127.0.0.1:${httpPort}`, snapshotFile });

    const began = Date.now();
    const error = await client.start({ timeoutMs: 400 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const tookMs = Date.now() - began;

    expect(error).toBeInstanceOf(ConfigClientStartTimeoutError);
    const { attempts, message } = error as ConfigClientStartTimeoutError;
    expect(tookMs).toBeGreaterThanOrEqual(390);
    expect(tookMs).toBeLessThan(2_000);
    expect(attempts).toMatchObject({
      timeoutMs: 400,
      stream: { target: `127.0.0.1:${grpcPort}`, lastError: expect.stringMatching(/UNAVAILABLE/) },
      http: { baseUrl: `http://127.0.0.1:${httpPort}/`, lastError: expect.stringMatching(/ECONNREFUSED|connect/i) },
      snapshotFile: { path: snapshotFile, restored: false },
    });
    expect(message).toContain(`no configuration within 400 ms; tried the Watch stream at 127.0.0.1:${grpcPort} (`);
    expect(message).toContain(`the HTTP fallback at http://127.0.0.1:${httpPort}/ (`);
    expect(message).toContain(`the snapshot file ${snapshotFile} (absent or unusable)`);
    // Not closed: it keeps trying; a later start() returns the same settled promise.
    expect(['interrupted', 'stale']).toContain(client.status);
    await expect(client.start()).rejects.toBe(error);
  });

  it('without options, start() settles too: after startTimeoutMs (default 30 s), saying there is no fallback', async () => {
    expect(CONFIG_CLIENT_DEFAULTS.startTimeoutMs).toBe(30_000);
    const client = newClient({ grpcTarget: `127.0.0.1:${await freePort()}`, startTimeoutMs: 300 });

    await expect(client.start()).rejects.toThrow(
      /within 300 ms; tried the Watch stream at .*; no HTTP fallback \(httpBaseUrl unset\); no snapshot file \(snapshotFile unset\)/,
    );
  });

  it('Infinity waits for ever, as before; a bad timeout is refused', async () => {
    const client = newClient({ grpcTarget: `127.0.0.1:${await freePort()}` });
    let settled = false;
    void client.start({ timeoutMs: Number.POSITIVE_INFINITY }).then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    expect(() => newClient({ grpcTarget: '127.0.0.1:1', startTimeoutMs: -1 })).toThrow(ConfigClientOptionsError);
    await expect(newClient({ grpcTarget: '127.0.0.1:1' }).start({ timeoutMs: 0 })).rejects.toThrow(ConfigClientOptionsError);
  });

  it('bootstrap values are a first state: start() resolves on them while the service is down', async () => {
    const client = newClient({ grpcTarget: `127.0.0.1:${await freePort()}`, bootstrap: { 'tenantconfig:plan': 'gold' } });

    await client.start({ timeoutMs: 2_000 });

    expect(client.get('tenantconfig:plan')).toBe('gold');
    expect(client.statusReport).toMatchObject({ status: 'interrupted', source: 'bootstrap' });
  });
});
