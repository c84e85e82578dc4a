/**
 * `GET /v1/flags/{name}/evaluate` and its `/v1/tenants/{tenantId}` twin: every shared flag vector
 * through the HTTP API (the flag stored in a tenant, segment or platform layer, the tenant's
 * attributes in the registry, the context as query parameters), and the adversarial cases.
 */
import { evaluateFlag } from '../../../core/flags/evaluate-flag';
import { parseKey } from '../../../core/key';
import { parseTenantId } from '../../../core/tenant';
import { FLAG_VECTORS, type FlagVector } from '../../support/flag-vectors';
import { adminClaims, operatorClaims, readerClaims, serviceClaims } from '../support/api-event';
import { createHarness, valueBody, type Harness } from '../support/harness';

const operator = operatorClaims('alice');

/** Why a vector cannot be asked through the API; undefined when it can. */
function notExpressible(v: FlagVector): string | undefined {
  if (v.tenantId === undefined) return 'the API always evaluates for a tenant';
  const context = v.context ?? {};
  if (Object.values(context).some((x) => typeof x === 'object' && x !== null)) return 'a query parameter is a string';
  if (context.targetingKey !== undefined && typeof context.targetingKey !== 'string') return 'a query parameter is a string';
  return undefined;
}

const query = (v: FlagVector): Record<string, string> => Object.fromEntries(Object.entries(v.context ?? {}).map(([k, x]) => [k, String(x)]));

/** Stores the vector's flag in the layer its index picks: tenant override, segment default (when the tenant has a plan) or platform default. */
async function store(api: Harness, v: FlagVector, index: number): Promise<void> {
  if (v.tenantAttributes) {
    const registered = await api.call({
      method: 'PUT',
      path: `/v1/tenants/${v.tenantId}`,
      body: JSON.stringify({ attributes: v.tenantAttributes }),
      claims: operator,
    });
    expect(registered.status).toBe(201);
  }
  if (v.value === undefined) return;
  const key = `flags:${v.flag}`;
  const plan = v.tenantAttributes?.plan;
  const path = [`/v1/tenants/${v.tenantId}/config/${key}`, plan ? `/v1/segments/plan=${plan}/${key}` : `/v1/defaults/${key}`, `/v1/defaults/${key}`][index % 3];
  const put = await api.call({ method: 'PUT', path, body: valueBody(v.value), claims: operator });
  if (v.expected.errorCode === 'PARSE_ERROR') {
    // A malformed flag never gets past PUT; one written straight to the store is what the evaluator must survive.
    expect(put.status).toBe(400);
    await api.backends.dynamodb.put(parseTenantId(v.tenantId as string), { key: parseKey(key), value: v.value as never, updatedBy: 'legacy-writer' });
  } else {
    expect(put.status).toBe(201);
  }
}

describe('GET /v1/flags/{name}/evaluate: the shared vectors', () => {
  const asked = FLAG_VECTORS.filter((v) => notExpressible(v) === undefined);

  it('asks all but the vectors a query string cannot express (no tenant, non-string context)', () => {
    expect(FLAG_VECTORS.filter((v) => notExpressible(v)).map((v) => v.description)).toEqual([
      'no targeting key and no tenant: a split cannot bucket',
      'no targeting key and no tenant, but nothing to split: static',
      'a context attribute that is an object cannot be compared',
      'a targetingKey that is not a string',
    ]);
  });

  it.each(asked.map((v, i) => [v.description, v, i] as const))('%s', async (_name, v, index) => {
    const api = createHarness({ layers: true });
    await store(api, v, index);
    const tenant = v.tenantId as string;

    const own = await api.call({ method: 'GET', path: `/v1/flags/${v.flag}/evaluate`, query: query(v), claims: readerClaims(tenant) });
    const twin = await api.call({ method: 'GET', path: `/v1/tenants/${tenant}/flags/${v.flag}/evaluate`, query: query(v), claims: serviceClaims('billing') });

    if (Object.keys(v.context ?? {}).some((k) => k.startsWith('tenant.'))) {
      // The API refuses what the evaluator ignores: a caller naming tenant attributes.
      expect(own.status).toBe(400);
      expect(own.body.detail).toMatch(/come from the tenant registry/);
      return;
    }
    if (v.expected.errorCode === 'FLAG_NOT_FOUND') {
      expect([own.status, twin.status]).toEqual([404, 404]);
      expect(own.body.detail).toMatch(/FLAG_NOT_FOUND/);
      return;
    }
    // The API has no expected type: it answers what the value is (the SDK's typed calls check the type).
    const expected = v.expectedType
      ? evaluateFlag(v.flag, v.value, { tenantId: tenant, tenantAttributes: v.tenantAttributes, context: v.context })
      : v.expected;
    const { errorMessage, ...answer } = own.body;
    expect(own.status).toBe(200);
    expect(answer).toEqual(stripMessage(expected));
    expect(twin.body).toEqual(own.body);
    if (answer.reason === 'ERROR') expect(errorMessage).toEqual(expect.any(String));
  });
});

const stripMessage = ({ errorMessage: _m, ...rest }: { errorMessage?: string } & Record<string, unknown>) => rest;

describe('GET /v1/flags/{name}/evaluate: adversarial', () => {
  let api: Harness;
  beforeAll(async () => {
    api = createHarness({ layers: true });
    await api.call({ method: 'PUT', path: '/v1/tenants/acme', body: JSON.stringify({ attributes: { plan: 'gold' } }), claims: operator });
    const flag = { enabled: true, rolloutPercent: 0, rules: [{ when: [{ attribute: 'tenant.plan', op: 'in', values: ['gold'] }], serve: { variant: 'on' } }] };
    expect((await api.call({ method: 'PUT', path: '/v1/defaults/flags:checkout', body: valueBody(flag), claims: operator })).status).toBe(201);
    expect((await api.call({ method: 'PUT', path: '/v1/defaults/flags:team/checkout', body: valueBody(true), claims: operator })).status).toBe(201);
  });

  it('a reader of its own tenant evaluates; the rule reads the registry', async () => {
    const acme = await api.call({ method: 'GET', path: '/v1/flags/checkout/evaluate', claims: readerClaims('acme') });
    const globex = await api.call({ method: 'GET', path: '/v1/flags/checkout/evaluate', claims: readerClaims('globex') });

    expect([acme.status, acme.body]).toEqual([200, { value: true, variant: 'on', reason: 'TARGETING_MATCH' }]);
    expect([globex.status, globex.body]).toEqual([200, { value: false, variant: 'off', reason: 'SPLIT' }]);
    expect(acme.headers['cache-control']).toBe('no-store');
  });

  it('a flag name with slashes', async () => {
    const reply = await api.call({ method: 'GET', path: '/v1/flags/team/checkout/evaluate', claims: readerClaims('acme') });

    expect(reply.body).toEqual({ value: true, variant: 'on', reason: 'STATIC' });
  });

  it("another tenant's twin: 403 for a tenant principal, its own twin 200, a service or operator any", async () => {
    const other = await api.call({ method: 'GET', path: '/v1/tenants/acme/flags/checkout/evaluate', claims: readerClaims('globex') });
    const otherAdmin = await api.call({ method: 'GET', path: '/v1/tenants/acme/flags/checkout/evaluate', claims: adminClaims('globex') });
    const ownTwin = await api.call({ method: 'GET', path: '/v1/tenants/acme/flags/checkout/evaluate', claims: readerClaims('acme') });
    const byOperator = await api.call({ method: 'GET', path: '/v1/tenants/globex/flags/checkout/evaluate', claims: operator });

    expect([other.status, otherAdmin.status, ownTwin.status, byOperator.status]).toEqual([403, 403, 200, 200]);
    expect(other.body.type).toMatch(/forbidden$/);
    expect(JSON.stringify(other.body)).not.toMatch(/TARGETING_MATCH|"value"/);
  });

  it('an operator (no tenant) on the own-tenant route: 403, never an evaluation of nobody', async () => {
    const reply = await api.call({ method: 'GET', path: '/v1/flags/checkout/evaluate', claims: operator });

    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.body.value).toBeUndefined();
  });

  it.each<[string, string, number, RegExp]>([
    ['an empty name', '/v1/flags//evaluate', 400, /empty/],
    ['a name with a colon', '/v1/flags/a:b/evaluate', 400, /not allowed/],
    ['a dot segment', '/v1/flags/a/../evaluate', 400, /not allowed/],
    ['an encoded slash', '/v1/flags/a%2Fb/evaluate', 400, /encoded/],
    ['no /evaluate', '/v1/flags/checkout', 404, /evaluates a flag/],
    ['evaluate alone', '/v1/flags/evaluate', 404, /evaluates a flag/],
    ['a 300-character name', `/v1/flags/${'a'.repeat(300)}/evaluate`, 400, /maximum is 256/],
  ])('%s → %d', async (_what, path, status, detail) => {
    const reply = await api.call({ method: 'GET', path, claims: readerClaims('acme') });

    expect(reply.status).toBe(status);
    expect(reply.body.detail).toMatch(detail);
  });

  it('a flag that does not exist: 404 saying FLAG_NOT_FOUND', async () => {
    const reply = await api.call({ method: 'GET', path: '/v1/flags/nope/evaluate', claims: readerClaims('acme') });

    expect(reply.status).toBe(404);
    expect(reply.body.detail).toMatch(/flag 'nope' does not exist \(FLAG_NOT_FOUND\)/);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['tenant.plan claimed by the caller', { 'tenant.plan': 'gold' }, /tenant registry/],
    ['tenant.id claimed by the caller', { 'tenant.id': 'acme' }, /tenant registry/],
    ['a name with a space', { 'a b': 'x' }, /not an attribute name/],
    ['a name with a control character', { 'a\u0000': 'x' }, /not an attribute name/],
    ['a value of 257 characters', { country: 'x'.repeat(257) }, /longer than 256/],
    ['33 attributes', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'x'])), /at most 32/],
  ])('odd query: %s → 400', async (_what, q, detail) => {
    const reply = await api.call({ method: 'GET', path: '/v1/flags/checkout/evaluate', query: q, claims: readerClaims('globex') });

    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(detail);
  });

  it('POST or PUT on an evaluation: 405', async () => {
    const reply = await api.call({ method: 'PUT', path: '/v1/flags/checkout/evaluate', body: '{}', claims: adminClaims('acme') });

    expect(reply.status).toBe(405);
  });
});
