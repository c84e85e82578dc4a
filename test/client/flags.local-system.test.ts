/**
 * The SDK evaluates rules on `tenant.<attribute>` as the API does, against the real local system:
 * an operator registers acme with plan gold, acme's admin sets a flag with a rule on `tenant.plan`,
 * and `view.flagDetails` (a client following every tenant, and one on demand) and the OpenFeature
 * provider answer what `GET /v1/flags/{name}/evaluate` answers; the operator moves acme to pro and
 * both answer otherwise. The attributes reach the SDK on its Watch stream (`include_attributes`),
 * kept apart from the keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { ConfigClient, type ConfigClientOptions, type TenantView } from '../../client';
import { TenantConfigProvider } from '../../client/openfeature';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { eventually } from '../e2e/aws-cli';
import { LocalApi } from '../e2e/local-api';

const PROPAGATION_MS = 5000;
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const CHECKOUT = {
  enabled: true,
  variants: [
    { name: 'premium', value: 'premium-checkout' },
    { name: 'standard', value: 'standard-checkout' },
  ],
  defaultVariant: 'standard',
  rules: [{ when: [{ attribute: 'tenant.plan', op: 'in', values: ['gold', 'enterprise'] }], serve: { variant: 'premium' } }],
};

describe('flags on tenant attributes: the SDK answers as the API', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let operator: string;
  let acmeAdmin: string;
  const clients: ConfigClient[] = [];

  const newClient = (options: Partial<ConfigClientOptions>) => {
    const serviceToken = system.signer.signServiceToken({ service: 'checkout' });
    const client = new ConfigClient({ grpcTarget: system.endpoints.grpc, token: () => serviceToken, logger: quiet, ...options });
    clients.push(client);
    return client;
  };

  /** The API's answer for acme, as acme's own caller asks it. */
  const apiAnswer = async () => {
    const res = await api.get('/v1/flags/checkout/evaluate', acmeAdmin);
    expect(res.status).toBe(200);
    return res.body as { value: unknown; variant: string; reason: string };
  };
  const sdkAnswer = (view: TenantView) => {
    const { value, variant, reason } = view.flagDetails('checkout', 'fallback');
    return { value, variant, reason };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sdk-flags-attrs-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    operator = system.signer.signOperatorToken({ operator: 'ops' });
    acmeAdmin = system.signer.signToken({ tenant: 'acme', admin: true });
    const registered = await api.call('PUT', '/v1/tenants/acme', { token: operator, body: { attributes: { plan: 'gold', region: 'eu' } } });
    expect(registered.status).toBe(201);
    expect((await api.put('/v1/config/flags:checkout', acmeAdmin, CHECKOUT)).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await OpenFeature.close();
    await Promise.all(clients.map((c) => c.close()));
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gold, then pro: view.flagDetails (every tenant and on demand) and OpenFeature answer as GET /v1/flags/checkout/evaluate', async () => {
    // Arrange
    const all = newClient({ tenants: 'all' });
    const onDemand = newClient({ tenants: 'on-demand' });
    await Promise.all([all.start(), onDemand.start()]);
    const views = [all.forTenant('acme'), await onDemand.forTenantReady('acme')];
    await OpenFeature.setProviderAndWait('attrs', new TenantConfigProvider(all));
    const flags = OpenFeature.getClient('attrs');
    let configurationChanged = 0;
    flags.addHandler(ProviderEvents.ConfigurationChanged, () => (configurationChanged += 1));

    // Act + Assert: gold
    const gold = await apiAnswer();
    expect(gold).toEqual({ value: 'premium-checkout', variant: 'premium', reason: 'TARGETING_MATCH' });
    for (const view of views) {
      expect(sdkAnswer(view)).toEqual(gold);
      expect(view.attributes).toEqual({ plan: 'gold', region: 'eu' });
      // Not a configuration key
      expect(view.keys()).toEqual(['flags:checkout']);
      expect(view.get('@attributes')).toBeUndefined();
    }
    const viaOpenFeature = await flags.getStringDetails('checkout', 'fallback', { tenantId: 'acme' });
    expect({ value: viaOpenFeature.value, variant: viaOpenFeature.variant, reason: viaOpenFeature.reason }).toEqual(gold);

    // Act: the operator moves acme to pro
    const keyChanges: string[] = [];
    for (const view of views) view.onChange((c) => keyChanges.push(c.key));
    expect((await api.call('PUT', '/v1/tenants/acme', { token: operator, body: { attributes: { plan: 'pro', region: 'eu' } } })).status).toBe(200);

    // Assert: pro, in the API and in the SDK
    const pro = await apiAnswer();
    expect(pro).toEqual({ value: 'standard-checkout', variant: 'standard', reason: 'DEFAULT' });
    for (const view of views) {
      await eventually(async () => (view.attributes.plan === 'pro' ? true : undefined), PROPAGATION_MS, 'the new plan at the SDK');
      expect(sdkAnswer(view)).toEqual(pro);
    }
    const after = await flags.getStringDetails('checkout', 'fallback', { tenantId: 'acme' });
    expect({ value: after.value, variant: after.variant, reason: after.reason }).toEqual(pro);
    expect(configurationChanged).toBeGreaterThanOrEqual(1);
    // The attributes' change is no key's change
    expect(keyChanges.filter((k) => k.startsWith('@'))).toEqual([]);
  }, 60_000);
});
