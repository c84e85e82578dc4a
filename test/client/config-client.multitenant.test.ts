/**
 * A ConfigClient following many tenants on one connection, against a scripted ConfigWatch server
 * that speaks `WatchRequest.tenants` and `tenant_id`: 'all' (the fleet, snapshot then changes),
 * 'on-demand' (followed from the first forTenant, the least recently used dropped), views that
 * read their own tenant only, and refusals surfaced as typed errors.
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { ConfigClient, type ConfigChange, type ConfigClientOptions } from '../../client';
import { ConfigClientOptionsError, ConfigClientPermissionError, InvalidTenantIdError } from '../../client/errors';
import {
  changeEvent,
  deleteEvent,
  endWith,
  item,
  type ScriptedWatchServer,
  snapshotEvent,
  type RecordedWatch,
  scriptedServerPerTest,
} from './support/scripted-watch-server';
import { fastTestOptions, sleep, waitUntil } from './support/wait';

let server: ScriptedWatchServer;
const clients: ConfigClient[] = [];

function newClient(options: Partial<ConfigClientOptions>): ConfigClient {
  const client = new ConfigClient({ grpcTarget: server.target, ...fastTestOptions(), prefixes: [], ...options });
  clients.push(client);
  return client;
}

/** Items of `tenants`, each with `plan` = `<tenant>-plan` at version 1. */
const fleet = (tenants: string[]) => tenants.map((t) => item('tenantconfig:plan', `${t}-plan`, 1, t));

scriptedServerPerTest(clients, (s) => (server = s));

describe("tenants: 'all'", () => {
  it("asks for '*' and serves each tenant's view from the one snapshot, then routes changes by tenant", async () => {
    server.script = (w) => {
      w.call.write(snapshotEvent(fleet(['acme', 'globex']), '', 'INITIAL', true));
      w.call.write(snapshotEvent([...fleet(['initech']), item('tenantconfig:seats', 5, 2, 'acme')], 'm1.all.1'));
    };
    const client = newClient({ tenants: 'all' });
    const acmeChanges: ConfigChange[] = [];
    const allChanges: ConfigChange[] = [];

    await client.start();
    const acme = client.forTenant('acme');
    acme.onChange((c) => acmeChanges.push(c));
    client.onChange((c) => allChanges.push(c));

    expect(server.watches).toHaveLength(1);
    expect(server.latest.tenants).toEqual(['*']);
    expect(client.status).toBe('live');
    expect(acme.loaded).toBe(true);
    expect(acme.keys()).toEqual(['tenantconfig:plan', 'tenantconfig:seats']);
    expect(acme.get('tenantconfig:plan')).toBe('acme-plan');
    expect(client.forTenant('globex').get('tenantconfig:plan')).toBe('globex-plan');
    expect(client.forTenant('initech').getItem('tenantconfig:plan')).toMatchObject({ value: 'initech-plan', version: 1 });
    expect(client.forTenant('nobody').get('tenantconfig:plan', 'default')).toBe('default');
    expect(client.heldTenants().sort()).toEqual(['acme', 'globex', 'initech']);

    server.latest.call.write(changeEvent('tenantconfig:plan', 'globex-gold', 2, 'm1.all.2', 'globex'));
    server.latest.call.write(deleteEvent('tenantconfig:seats', 2, 'm1.all.3', 'acme'));
    server.latest.call.write(changeEvent('tenantconfig:plan', 'newco-plan', 1, 'm1.all.4', 'newco'));
    await waitUntil(() => client.cursor === 'm1.all.4', 'three changes applied');

    expect(client.forTenant('globex').get('tenantconfig:plan')).toBe('globex-gold');
    expect(acme.get('tenantconfig:plan')).toBe('acme-plan');
    expect(acme.keys()).toEqual(['tenantconfig:plan']);
    expect(client.forTenant('newco').get('tenantconfig:plan')).toBe('newco-plan');
    expect(acmeChanges.map((c) => [c.tenantId, c.key, c.deleted])).toEqual([['acme', 'tenantconfig:seats', true]]);
    expect(allChanges.map((c) => c.tenantId)).toEqual(['globex', 'acme', 'newco']);
  });

  it('a later snapshot replaces every tenant and reports the differences; a change without a tenant is ignored', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent(fleet(['acme', 'globex']), 'm1.all.1'));
        setTimeout(() => endWith(w.call, grpc.status.UNAVAILABLE, 'restart'), 30);
        return;
      }
      w.call.write(snapshotEvent([item('tenantconfig:plan', 'acme-2', 2, 'acme')], 'm1.all.9', 'CURSOR_EXPIRED'));
    };
    const client = newClient({ tenants: 'all' });
    const changes: ConfigChange[] = [];
    client.onChange((c) => changes.push(c));
    await client.start();
    server.latest.call.write(changeEvent('tenantconfig:plan', 'stray', 9, 'm1.all.2'));

    await waitUntil(() => client.cursor === 'm1.all.9', 'the second snapshot');

    expect(server.watches[1]).toMatchObject({ tenants: ['*'], resumeCursor: 'm1.all.2' });
    expect(client.forTenant('acme').get('tenantconfig:plan')).toBe('acme-2');
    expect(client.forTenant('globex').keys()).toEqual([]);
    expect(changes.map((c) => [c.tenantId, c.key, c.version, c.deleted])).toEqual([
      ['globex', 'tenantconfig:plan', 1, true],
      ['acme', 'tenantconfig:plan', 2, false],
    ]);
  });

  it('PERMISSION_DENIED (a tenant token asking for every tenant) rejects start with ConfigClientPermissionError', async () => {
    server.script = (w) => endWith(w.call, grpc.status.PERMISSION_DENIED, 'a tenant principal may watch its own tenant only');
    const client = newClient({ tenants: 'all' });

    const started = client.start();

    await expect(started).rejects.toBeInstanceOf(ConfigClientPermissionError);
    await expect(started).rejects.toThrow(/every tenant.*service token/);
    expect(server.watches).toHaveLength(1);
  });

  it('a single-tenant read on a multi-tenant client, and a malformed tenant id, are refused with typed errors', async () => {
    const client = newClient({ tenants: 'all' });
    await client.start();

    expect(() => client.get('tenantconfig:plan')).toThrow(ConfigClientOptionsError);
    expect(() => client.keys()).toThrow(/forTenant/);
    for (const bad of ['', 'a/b', '#x', '-lead', 'x'.repeat(65), 'a:b']) expect(() => client.forTenant(bad)).toThrow(InvalidTenantIdError);
    expect(() => newClient({}).forTenant('acme')).toThrow(ConfigClientOptionsError);
  });

  it('the constructor refuses options that cannot hold many tenants', () => {
    expect(() => newClient({ tenants: 'some' as never })).toThrow(/tenants must be/);
    expect(() => newClient({ tenants: 'all', httpBaseUrl: 'http://127.0.0.1:1' })).toThrow(/httpBaseUrl/);
    expect(() => newClient({ tenants: 'all', snapshotFile: '/tmp/x.json' })).toThrow(/snapshotFile/);
    expect(() => newClient({ tenants: 'on-demand', maxTenants: 0 })).toThrow(/maxTenants/);
    expect(() => newClient({ userTokens: { issuer: 'https://issuer', clientId: 'c' } })).toThrow(/needs tenants/);
    expect(() => newClient({ tenants: 'all', userTokens: { issuer: 'issuer', clientId: 'c' } })).toThrow(/issuer/);
    expect(() => newClient({ tenants: 'all', userTokens: { issuer: 'https://issuer', clientId: [] } })).toThrow(/clientId/);
  });
});

/** Answers each Watch: a snapshot of the tenants it names (values `<tenant>-plan`), cursor per call. */
function serveSnapshots(w: RecordedWatch, index: number): void {
  w.call.write(snapshotEvent(fleet(w.tenants), `m1.set${index}.1`));
}

describe("tenants: 'on-demand'", () => {
  it('opens no stream before the first forTenant; then follows it, get answering the fallback until ready', async () => {
    server.script = serveSnapshots;
    const client = newClient({ tenants: 'on-demand' });

    await client.start();
    await sleep(50);
    expect(server.watches).toHaveLength(0);

    const acme = client.forTenant('acme');
    expect(acme.get('tenantconfig:plan', 'fallback')).toBe('fallback');
    expect(acme.loaded).toBe(false);
    await acme.ready();

    expect(acme.get('tenantconfig:plan', 'fallback')).toBe('acme-plan');
    expect(server.watches.map((w) => w.tenants)).toEqual([['acme']]);
    expect(client.status).toBe('live');
  });

  it('a new tenant is read by a second Watch on the same connection, then the main Watch is re-issued with both', async () => {
    server.script = serveSnapshots;
    const client = newClient({ tenants: 'on-demand' });
    await client.start();
    await client.forTenantReady('acme');
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));

    const globex = await client.forTenantReady('globex');
    await server.waitForWatches(3);
    await waitUntil(() => server.watches[1].cancelled, 'the joining Watch cancelled once the widened one is in');

    expect(globex.get('tenantconfig:plan')).toBe('globex-plan');
    expect(client.forTenant('acme').get('tenantconfig:plan')).toBe('acme-plan');
    expect(server.watches.map((w) => w.tenants)).toEqual([['acme'], ['globex'], ['acme', 'globex']]);
    expect(server.watches[2].resumeCursor).toBe('');
    expect(server.watches[0].cancelled).toBe(true);
    expect(server.watches[2].cancelled).toBe(false);
    // One connection: every Watch came over the same HTTP/2 connection (same peer address).
    expect(new Set(server.watches.map((w) => w.peer)).size).toBe(1);
    expect(statuses).toEqual([]);

    server.latest.call.write(changeEvent('tenantconfig:plan', 'globex-gold', 2, 'm1.set2.2', 'globex'));
    await waitUntil(() => globex.get('tenantconfig:plan') === 'globex-gold', 'a change of the joined tenant on the main Watch');
  });

  it('tenants asked for together join in one batch', async () => {
    server.script = serveSnapshots;
    const client = newClient({ tenants: 'on-demand' });
    await client.start();
    await client.forTenantReady('acme');

    const views = await Promise.all(['b1', 'b2', 'b3'].map((t) => client.forTenantReady(t)));
    await server.waitForWatches(3);

    expect(views.map((v) => v.get('tenantconfig:plan'))).toEqual(['b1-plan', 'b2-plan', 'b3-plan']);
    expect(server.watches.map((w) => w.tenants.length)).toEqual([1, 3, 4]);
  });

  it('holds at most maxTenants, dropping the least recently used from the watched set', async () => {
    server.script = serveSnapshots;
    const client = newClient({ tenants: 'on-demand', maxTenants: 2 });
    await client.start();
    await client.forTenantReady('a');
    await client.forTenantReady('b');
    await server.waitForWatches(3);
    client.forTenant('a').get('tenantconfig:plan'); // a is now the most recently used

    await client.forTenantReady('c');
    await server.waitForWatches(5);
    await waitUntil(() => client.heldTenants().length === 2, 'b dropped');

    expect(client.heldTenants().sort()).toEqual(['a', 'c']);
    expect(server.latest.tenants.sort()).toEqual(['a', 'c']);
    expect(client.forTenant('c').get('tenantconfig:plan')).toBe('c-plan');

    // A dropped tenant used again is followed again.
    const b = client.forTenant('b');
    expect(b.get('tenantconfig:plan', 'not yet')).toBe('not yet');
    await b.ready();
    expect(b.get('tenantconfig:plan')).toBe('b-plan');
  });

  it('a tenant the token may not read is refused with ConfigClientPermissionError; the others stay followed', async () => {
    server.script = (w, index) => {
      if (w.tenants.includes('forbidden')) endWith(w.call, grpc.status.PERMISSION_DENIED, 'not your tenant');
      else serveSnapshots(w, index);
    };
    const client = newClient({ tenants: 'on-demand' });
    await client.start();
    await client.forTenantReady('acme');

    const [refused, allowed] = await Promise.allSettled([client.forTenantReady('forbidden'), client.forTenantReady('ok')]);

    expect(refused.status === 'rejected' && refused.reason).toBeInstanceOf(ConfigClientPermissionError);
    expect(allowed.status === 'fulfilled' && allowed.value.get('tenantconfig:plan')).toBe('ok-plan');
    expect(client.heldTenants().sort()).toEqual(['acme', 'ok']);
  });

  it('a broken stream resumes with the tenants it names; close rejects readiness still pending', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        serveSnapshots(w, index);
        setTimeout(() => endWith(w.call, grpc.status.UNAVAILABLE, 'restart'), 30);
        return;
      }
      if (!w.resumeCursor) serveSnapshots(w, index);
      else w.call.sendMetadata(new grpc.Metadata());
    };
    const client = newClient({ tenants: 'on-demand' });
    await client.start();
    await client.forTenantReady('acme');
    await server.waitForWatches(2);
    await waitUntil(() => client.status === 'live', 'live again');

    expect(server.watches[1]).toMatchObject({ tenants: ['acme'], resumeCursor: 'm1.set0.1' });

    server.script = () => undefined; // joins never answer
    const pending = client.forTenant('later').ready();
    await sleep(20);
    await client.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});

describe('tenant isolation (property)', () => {
  it("a view of tenant a never returns another tenant's value, whatever the snapshot and changes", async () => {
    const tenantIds = ['t1', 't2', 't3'];
    const keys = ['tenantconfig:k1', 'tenantconfig:k2'];
    const write = fc.record({ tenant: fc.constantFrom(...tenantIds), key: fc.constantFrom(...keys), version: fc.integer({ min: 1, max: 5 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 12 }), fc.array(write, { maxLength: 12 }), async (snapshot, changes) => {
        server.script = (w) => {
          w.call.write(
            snapshotEvent(
              snapshot.map((s) => item(s.key, `${s.tenant}:${s.version}`, s.version, s.tenant)),
              'c0',
            ),
          );
          changes.forEach((c, i) => w.call.write(changeEvent(c.key, `${c.tenant}:${c.version}`, c.version, `c${i + 1}`, c.tenant)));
        };
        const client = newClient({ tenants: 'all' });
        await client.start();
        await waitUntil(() => client.cursor === `c${changes.length}`, 'all changes');
        for (const tenant of tenantIds) {
          const view = client.forTenant(tenant);
          for (const key of keys) {
            const value = view.get<string>(key);
            if (value !== undefined) expect(value.split(':')[0]).toBe(tenant);
          }
        }
        await client.close();
      }),
      { numRuns: 25 },
    );
  });
});
