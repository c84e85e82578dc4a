/**
 * Property: whoever calls, through whichever route, with whatever prefix or page token, no
 * caller ever reads or changes a tenant it may not act on, and no response carries another
 * tenant's value. The expected outcome of every call comes from a model of the principal
 * table written out here, independently of core/access-policy.ts.
 */
import fc from 'fast-check';
import { adminClaims, operatorClaims, readerClaims, serviceClaims, type Claims } from '../support/api-event';
import { createHarness, valueBody, type Harness } from '../support/harness';

const TENANTS = ['acme', 'globex'] as const;
type Tenant = (typeof TENANTS)[number];

interface Caller {
  readonly name: string;
  readonly claims: Claims;
  /** The tenant a tenant principal belongs to. */
  readonly own?: Tenant;
  readonly readsSecrets: boolean;
  /** May write the tenants it may act on. */
  readonly writes: boolean;
  /** Needs no tenant claim and may act on any tenant. */
  readonly crossTenant: boolean;
}

const CALLERS: readonly Caller[] = [
  { name: 'acme reader', claims: readerClaims('acme'), own: 'acme', readsSecrets: false, writes: false, crossTenant: false },
  { name: 'acme admin', claims: adminClaims('acme'), own: 'acme', readsSecrets: true, writes: true, crossTenant: false },
  { name: 'globex reader', claims: readerClaims('globex'), own: 'globex', readsSecrets: false, writes: false, crossTenant: false },
  { name: 'globex admin', claims: adminClaims('globex'), own: 'globex', readsSecrets: true, writes: true, crossTenant: false },
  { name: 'service', claims: serviceClaims('billing'), readsSecrets: false, writes: false, crossTenant: true },
  {
    name: 'service with secrets',
    claims: serviceClaims('billing', ['tenant-config/read', 'tenant-config/read-secrets']),
    readsSecrets: true,
    writes: false,
    crossTenant: true,
  },
  { name: 'operator', claims: operatorClaims('alice'), readsSecrets: true, writes: true, crossTenant: true },
];

const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}$/).filter((s) => s !== '.' && s !== '..');
const name = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const tag = fc.constantFrom('tenantconfig', 'paramconfig', 'secretconfig');
const keys = fc.uniqueArray(
  fc.tuple(tag, name).map(([t, n]) => `${t}:${n}`),
  { minLength: 1, maxLength: 5 },
);
const caller = fc.constantFrom(...CALLERS);
/** `own` = the caller's own-tenant routes (/v1/config); a tenant = its /v1/tenants/{id} twin. */
const route = fc.constantFrom<'own' | Tenant>('own', ...TENANTS);

const valueOf = (tenant: string, key: string) => `${tenant}|${key}`;
const isSecret = (key: string) => key.startsWith('secretconfig:');
const base = (r: 'own' | Tenant) => (r === 'own' ? '/v1' : `/v1/tenants/${r}`);

/** The tenant the call acts on, or undefined when the model says 403. */
function target(c: Caller, r: 'own' | Tenant): Tenant | undefined {
  if (r === 'own') return c.own;
  if (c.crossTenant || c.own === r) return r;
  return undefined;
}

async function seed(api: Harness, held: Record<Tenant, readonly string[]>): Promise<void> {
  for (const tenant of TENANTS) {
    for (const key of held[tenant]) {
      const reply = await api.call({ method: 'PUT', path: `/v1/config/${key}`, body: valueBody(valueOf(tenant, key)), claims: adminClaims(tenant) });
      expect(reply.status).toBe(201);
    }
  }
}

async function listAll(
  api: Harness,
  c: Caller,
  r: 'own' | Tenant,
  prefix?: string,
): Promise<{ status: number; items: Array<{ key: string; value: unknown }> }> {
  const items: Array<{ key: string; value: unknown }> = [];
  let nextToken: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const query: Record<string, string> = { limit: '2' };
    if (prefix) query.prefix = prefix;
    if (nextToken) query.nextToken = nextToken;
    const reply = await api.call({ method: 'GET', path: `${base(r)}/config`, query, claims: c.claims });
    if (reply.status !== 200) return { status: reply.status, items };
    items.push(...reply.body.items);
    nextToken = reply.body.nextToken;
    if (!nextToken) return { status: 200, items };
  }
  throw new Error('listing did not end');
}

describe('config-api handler: tenant isolation (property)', () => {
  it('every caller on every route reads only what the principal table allows, and only its target tenant', async () => {
    await fc.assert(
      fc.asyncProperty(keys, fc.boolean(), caller, route, async (keyList, globexHoldsAll, c, r) => {
        const api = createHarness();
        // globex holds either the same names or only some: a key missing there must stay missing.
        const held: Record<Tenant, readonly string[]> = { acme: keyList, globex: globexHoldsAll ? keyList : keyList.slice(0, 1) };
        await seed(api, held);
        const tenant = target(c, r);

        for (const key of keyList) {
          const read = await api.call({ method: 'GET', path: `${base(r)}/config/${key}`, claims: c.claims });
          const history = await api.call({ method: 'GET', path: `${base(r)}/history/${key}`, claims: c.claims });
          if (tenant === undefined || (isSecret(key) && !c.readsSecrets)) {
            expect([read.status, history.status]).toEqual([403, 403]);
          } else if (held[tenant].includes(key)) {
            expect(read.body.value).toBe(valueOf(tenant, key));
            expect(history.body.items.map((e: { value: unknown }) => e.value)).toEqual([valueOf(tenant, key)]);
          } else {
            expect([read.status, history.status]).toEqual([404, 404]);
          }
        }

        const listed = await listAll(api, c, r);
        if (tenant === undefined) {
          expect(listed.status).toBe(403);
        } else {
          const visible = held[tenant].filter((k) => c.readsSecrets || !isSecret(k));
          expect(listed.items.map((i) => i.key).sort()).toEqual([...visible].sort());
          for (const item of listed.items) expect(item.value).toBe(valueOf(tenant, item.key));
          const firstTag = keyList[0].split(':')[0];
          const byPrefix = await listAll(api, c, r, `${firstTag}:`);
          if (firstTag === 'secretconfig' && !c.readsSecrets) expect(byPrefix.status).toBe(403);
          else for (const item of byPrefix.items) expect(item.value).toBe(valueOf(tenant, item.key));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a page token issued for one tenant never lists another, whoever replays it', async () => {
    await fc.assert(
      fc.asyncProperty(keys, caller, fc.constantFrom(...TENANTS), async (keyList, c, issuedFor) => {
        const api = createHarness();
        const held: Record<Tenant, readonly string[]> = { acme: keyList, globex: keyList };
        await seed(api, held);
        // An operator lists one tenant a page at a time: its token is bound to that tenant.
        const first = await api.call({ method: 'GET', path: `/v1/tenants/${issuedFor}/config`, query: { limit: '1' }, claims: operatorClaims('op') });
        fc.pre(first.body.nextToken !== undefined);

        for (const r of ['own', ...TENANTS] as const) {
          const tenant = target(c, r);
          const replay = await api.call({ method: 'GET', path: `${base(r)}/config`, query: { limit: '1', nextToken: first.body.nextToken }, claims: c.claims });
          if (tenant === undefined) expect(replay.status).toBe(403);
          else if (tenant !== issuedFor) expect(replay.status).toBe(400);
          else for (const item of replay.body.items) expect(item.value).toBe(valueOf(tenant, item.key));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a write through any route lands only in a tenant the caller may write, and never changes another', async () => {
    await fc.assert(
      fc.asyncProperty(keys, caller, route, async (keyList, c, r) => {
        const api = createHarness();
        const held: Record<Tenant, readonly string[]> = { acme: keyList, globex: keyList };
        await seed(api, held);
        const tenant = target(c, r);

        for (const key of keyList) {
          const put = await api.call({ method: 'PUT', path: `${base(r)}/config/${key}`, body: valueBody('written'), claims: c.claims });
          const del = await api.call({ method: 'DELETE', path: `${base(r)}/config/${key}`, headers: { 'if-match': '"2"' }, claims: c.claims });
          if (tenant === undefined || !c.writes) {
            expect([put.status, del.status]).toEqual([403, 403]);
          } else {
            expect(put.status).toBe(200);
            expect(put.body.updatedBy).toBe(c.claims.sub);
            expect(del.status).toBe(204);
          }
        }
        for (const t of TENANTS) {
          for (const key of keyList) {
            const read = await api.call({ method: 'GET', path: `/v1/tenants/${t}/config/${key}`, claims: operatorClaims('auditor') });
            if (t === tenant && c.writes) expect(read.status).toBe(404);
            else expect(read.body).toMatchObject({ value: valueOf(t, key), version: 1 });
          }
        }
      }),
      { numRuns: 40 },
    );
  });
  it('layers and the registry: only operators write them; a default reaches every tenant without an override, an override never another tenant', async () => {
    await fc.assert(
      fc.asyncProperty(keys, caller, fc.subarray([...TENANTS]), fc.constantFrom('plan=gold', 'region=eu'), async (keyList, c, overriding, segment) => {
        const api = createHarness({ layers: true });
        const operator = operatorClaims('op');
        // Every key has a platform default; the tenants in `overriding` hold their own value too.
        for (const key of keyList) {
          expect((await api.call({ method: 'PUT', path: `/v1/defaults/${key}`, body: valueBody(`default|${key}`), claims: operator })).status).toBe(201);
        }
        await seed(api, { acme: overriding.includes('acme') ? keyList : [], globex: overriding.includes('globex') ? keyList : [] });

        // Writes of layers and of the registry, through every new route: operators only.
        const key = keyList[0];
        const writes = [
          await api.call({ method: 'PUT', path: `/v1/defaults/${key}`, body: valueBody('by-caller'), claims: c.claims }),
          await api.call({ method: 'PUT', path: `/v1/segments/${segment}/${key}`, body: valueBody('by-caller'), claims: c.claims }),
          await api.call({ method: 'POST', path: `/v1/defaults/${key}/restore`, body: JSON.stringify({ version: 1 }), claims: c.claims }),
          await api.call({ method: 'DELETE', path: `/v1/segments/${segment}/${key}`, claims: c.claims }),
          await api.call({ method: 'PUT', path: '/v1/tenants/acme', body: JSON.stringify({ attributes: { plan: 'gold' } }), claims: c.claims }),
        ];
        const isOperator = c.name === 'operator';
        if (isOperator) expect(writes.map((r) => r.status)).toEqual([200, 201, 200, 204, 201]);
        else expect(writes.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
        // The registry is the operators' alone, reads and offboarding included.
        for (const t of TENANTS) {
          const record = await api.call({ method: 'GET', path: `/v1/tenants/${t}`, claims: c.claims });
          const offboard = await api.call({ method: 'DELETE', path: `/v1/tenants/${t}`, claims: c.claims });
          if (!isOperator) expect([record.status, offboard.status]).toEqual([403, 403]);
        }
        if (!isOperator) expect((await api.call({ method: 'GET', path: '/v1/tenants', claims: c.claims })).status).toBe(403);
        if (isOperator) return; // the operator has just offboarded both tenants; the reads below are about the others

        // Restore through a tenant route: only a writer of that tenant.
        for (const r of ['own', ...TENANTS] as const) {
          const tenant = target(c, r);
          const restored = await api.call({ method: 'POST', path: `${base(r)}/config/${key}/restore`, body: JSON.stringify({ version: 1 }), claims: c.claims });
          if (tenant === undefined || !c.writes) expect(restored.status).toBe(403);
          else expect([200, 404]).toContain(restored.status);
        }

        // Effective reads: a tenant's own value, else the default; never another tenant's value.
        for (const r of ['own', ...TENANTS] as const) {
          const tenant = target(c, r);
          for (const k of keyList) {
            const read = await api.call({ method: 'GET', path: `${base(r)}/config/${k}`, claims: c.claims });
            const own = await api.call({ method: 'GET', path: `${base(r)}/config/${k}`, query: { layer: 'tenant' }, claims: c.claims });
            if (tenant === undefined || (isSecret(k) && !c.readsSecrets)) {
              expect([read.status, own.status]).toEqual([403, 403]);
            } else if (overriding.includes(tenant)) {
              expect(read.body).toMatchObject({ value: valueOf(tenant, k), source: 'tenant' });
              expect(own.body).toMatchObject({ value: valueOf(tenant, k), source: 'tenant' });
            } else {
              expect(read.body).toMatchObject({ value: `default|${k}`, source: 'platform' });
              expect(own.status).toBe(404);
            }
          }
          const listed = await listAll(api, c, r);
          if (tenant !== undefined) {
            for (const item of listed.items) expect([valueOf(tenant, item.key), `default|${item.key}`]).toContain(item.value);
            expect(listed.items.map((i) => i.key).sort()).toEqual(keyList.filter((k) => c.readsSecrets || !isSecret(k)).sort());
          }
        }
        // Defaults are read by everyone with the rights for the tag, and hold no tenant's value.
        for (const k of keyList) {
          const read = await api.call({ method: 'GET', path: `/v1/defaults/${k}`, claims: c.claims });
          if (isSecret(k) && !c.readsSecrets) expect(read.status).toBe(403);
          else expect(read.body).toMatchObject({ value: `default|${k}`, source: 'platform' });
        }
      }),
      { numRuns: 40 },
    );
  });

  it("a flag evaluation through any route answers only the target tenant's flag, with its attributes, or 403", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(name, { minLength: 1, maxLength: 3 }), fc.boolean(), caller, route, async (flagNames, globexHoldsAll, c, r) => {
        const api = createHarness({ layers: true });
        const operator = operatorClaims('op');
        // Each tenant's flag serves a value naming the tenant, but only to a tenant whose registry plan is its own.
        const plans: Record<Tenant, string> = { acme: 'gold', globex: 'free' };
        const held: Record<Tenant, readonly string[]> = { acme: flagNames, globex: globexHoldsAll ? flagNames : flagNames.slice(0, 1) };
        for (const t of TENANTS) {
          await api.call({ method: 'PUT', path: `/v1/tenants/${t}`, body: JSON.stringify({ attributes: { plan: plans[t] } }), claims: operator });
          for (const n of held[t]) {
            const flag = {
              enabled: true,
              variants: [
                { name: 'mine', value: valueOf(t, n) },
                { name: 'none', value: 'none' },
              ],
              defaultVariant: 'none',
              rules: [{ when: [{ attribute: 'tenant.plan', op: 'in', values: [plans[t]] }], serve: { variant: 'mine' } }],
            };
            expect((await api.call({ method: 'PUT', path: `/v1/config/flags:${n}`, body: valueBody(flag), claims: adminClaims(t) })).status).toBe(201);
          }
        }
        const tenant = target(c, r);

        for (const n of flagNames) {
          const reply = await api.call({ method: 'GET', path: `${base(r)}/flags/${n}/evaluate`, query: { targetingKey: 'user-1' }, claims: c.claims });
          if (tenant === undefined) {
            expect(reply.status).toBe(403);
            expect(reply.rawBody).not.toMatch(/acme\||globex\|/);
          } else if (held[tenant].includes(n)) {
            expect([reply.status, reply.body]).toEqual([200, { value: valueOf(tenant, n), variant: 'mine', reason: 'TARGETING_MATCH' }]);
          } else {
            expect(reply.status).toBe(404);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
