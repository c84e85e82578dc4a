/**
 * The client SDK against the real fanout of the local system (docs/design.md §4.3): a ConfigClient on
 * the advertised gRPC endpoint, with dev tokens, gets its tenant's snapshot, then sees a
 * change made through the HTTP API and one made with the AWS CLI in the Parameter Store,
 * each within a second (HTTP front → backend → change event → cache-refresh → change log →
 * fanout → SDK). A client of another tenant sees none of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigClient, type ConfigChange } from '../../client';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { AwsCli, eventually } from './aws-cli';
import { LocalApi } from './local-api';

const PROPAGATION_MS = 1000;
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('client SDK against the local fanout', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let cli: AwsCli;
  const clients: ConfigClient[] = [];
  const tokens: Record<string, string> = {};

  const newClient = (token: string) => {
    const client = new ConfigClient({ grpcTarget: system.endpoints.grpc, token: () => token, logger: quiet });
    clients.push(client);
    return client;
  };
  const recorder = (client: ConfigClient) => {
    const seen: ConfigChange[] = [];
    client.onChange((c) => seen.push(c));
    return seen;
  };
  const seenWithin = (seen: ConfigChange[], match: (c: ConfigChange) => boolean, what: string) =>
    eventually(async () => seen.find(match), PROPAGATION_MS, what);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-sdk-'));
    // 'auto': the Redis change log when redis-server is on PATH, the in-memory one otherwise
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    cli = new AwsCli(system.endpoints);
    for (const tenant of ['acme', 'globex']) {
      tokens[`${tenant}Admin`] = system.signer.signToken({ tenant, admin: true });
      tokens[`${tenant}Reader`] = system.signer.signToken({ tenant, admin: false });
    }
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets the snapshot, then API and AWS CLI changes within a second; another tenant sees none of them', async () => {
    // arrange: state before the clients connect
    expect((await api.put('/v1/config/tenantconfig:plan', tokens.acmeAdmin, { tier: 'gold' })).status).toBe(201);
    expect((await api.put('/v1/config/paramconfig:db/pool', tokens.acmeAdmin, { max: 10 })).status).toBe(201);
    expect((await api.put('/v1/config/tenantconfig:plan', tokens.globexAdmin, { tier: 'free' })).status).toBe(201);
    const acme = newClient(tokens.acmeReader);
    const globex = newClient(tokens.globexReader);
    const acmeSeen = recorder(acme);
    const globexSeen = recorder(globex);

    // snapshot
    await Promise.all([acme.start(), globex.start()]);
    expect(acme.status).toBe('live');
    expect(acme.keys()).toEqual(['paramconfig:db/pool', 'tenantconfig:plan']);
    expect(acme.getItem('tenantconfig:plan')).toMatchObject({ value: { tier: 'gold' }, version: 1 });
    expect(acme.get('paramconfig:db/pool')).toEqual({ max: 10 });
    expect(globex.keys()).toEqual(['tenantconfig:plan']);
    expect(globex.get('tenantconfig:plan')).toEqual({ tier: 'free' });

    // a change through the HTTP API
    expect((await api.put('/v1/config/tenantconfig:plan', tokens.acmeAdmin, { tier: 'platinum' })).status).toBe(200);
    const viaApi = await seenWithin(acmeSeen, (c) => c.key === 'tenantconfig:plan' && c.version === 2, 'the API change at the SDK');
    expect(viaApi.value).toMatchObject({ value: { tier: 'platinum' }, deleted: false, previous: { value: { tier: 'gold' }, version: 1 } });
    expect(acme.get('tenantconfig:plan')).toEqual({ tier: 'platinum' });

    // a change with the AWS CLI straight into the Parameter Store
    const version = await cli.putParameter('acme', 'paramconfig:db/pool', { max: 40 });
    const viaCli = await seenWithin(acmeSeen, (c) => c.key === 'paramconfig:db/pool' && c.version === version, 'the CLI change at the SDK');
    expect(viaCli.value).toMatchObject({ value: { max: 40 }, deleted: false });

    // a delete through the API
    expect((await api.delete('/v1/config/paramconfig:db/pool', tokens.acmeAdmin)).status).toBe(204);
    await seenWithin(acmeSeen, (c) => c.key === 'paramconfig:db/pool' && c.deleted, 'the delete at the SDK');
    expect(acme.keys()).toEqual(['tenantconfig:plan']);

    // globex is live (its own change arrives) but never saw acme's
    expect((await api.put('/v1/config/tenantconfig:seats', tokens.globexAdmin, 3)).status).toBe(201);
    await seenWithin(globexSeen, (c) => c.key === 'tenantconfig:seats', "globex's own change");
    expect(globexSeen.map((c) => c.key)).toEqual(['tenantconfig:seats']);
    expect(globex.get('tenantconfig:plan')).toEqual({ tier: 'free' });
    expect(acmeSeen.some((c) => c.key === 'tenantconfig:seats')).toBe(false);
  }, 30000);
});
