/**
 * Flags in the SDK: every shared vector through `view.flagDetails` (the tenant's flag and registry
 * attributes held by the client), and through the OpenFeature provider via OpenFeature's own
 * evaluation API (`setProviderAndWait`, `getXxxDetails`), plus the provider's readiness and events.
 */
import { OpenFeature, ProviderEvents, type EventDetails, type JsonValue } from '@openfeature/server-sdk';
import { createTestClient, type TestConfigClient } from '../../client';
import { TenantConfigProvider } from '../../client/openfeature';
import { FLAG_VECTORS, withoutMessage, type FlagVector } from '../support/flag-vectors';

/** A view always names its tenant, so the vectors without one are core's alone. */
const withTenant = FLAG_VECTORS.filter((v) => v.tenantId !== undefined);

async function clientFor(v: FlagVector): Promise<TestConfigClient> {
  const tenant = v.tenantId as string;
  const client = createTestClient({}, { tenants: { [tenant]: v.value === undefined ? {} : { [`flags:${v.flag}`]: v.value } } });
  if (v.tenantAttributes) client.setTenantAttributes(tenant, v.tenantAttributes);
  await client.start();
  return client;
}

/** A fallback of the vector's expected type (or none), as a typed caller would pass it. */
const FALLBACKS = { boolean: false, string: 'fallback', number: -1, object: { fallback: true } } as const;

describe('view.flagDetails: the shared vectors', () => {
  it('runs every vector that names a tenant', () => {
    expect(FLAG_VECTORS.length - withTenant.length).toBe(2);
  });

  it.each(withTenant.map((v) => [v.description, v] as const))('%s', async (_name, v) => {
    const client = await clientFor(v);
    const view = client.forTenant(v.tenantId as string);
    const fallback = v.expectedType ? FALLBACKS[v.expectedType] : null;

    const details = view.flagDetails(v.flag, fallback, v.context as never);

    const { flagKey, value, ...rest } = details;
    expect(flagKey).toBe(v.flag);
    expect(withoutMessage(rest as never)).toEqual(omitValue(v.expected));
    expect(value).toEqual(v.expected.value === undefined ? fallback : v.expected.value);
    expect(view.flag(v.flag, fallback, v.context as never)).toEqual(value);
    await client.close();
  });
});

const omitValue = ({ value: _v, ...rest }: Record<string, unknown>) => rest;

describe('TenantConfigProvider through the OpenFeature SDK: the shared vectors', () => {
  afterAll(() => OpenFeature.close());

  it.each(withTenant.map((v, i) => [v.description, v, i] as const))('%s', async (_name, v, i) => {
    const client = await clientFor(v);
    const domain = `vector-${i}`;
    await OpenFeature.setProviderAndWait(domain, new TenantConfigProvider(client));
    const flags = OpenFeature.getClient(domain);
    const context = { ...(v.context as Record<string, string>), tenantId: v.tenantId as string };
    const type = v.expectedType ?? typeOfExpected(v);

    const details =
      type === 'boolean'
        ? await flags.getBooleanDetails(v.flag, false, context)
        : type === 'string'
          ? await flags.getStringDetails(v.flag, 'fallback', context)
          : type === 'number'
            ? await flags.getNumberDetails(v.flag, -1, context)
            : await flags.getObjectDetails(v.flag, { fallback: true } as JsonValue, context);

    const fallback = FALLBACKS[type];
    expect(details.reason).toBe(v.expected.reason);
    expect(details.errorCode).toBe(v.expected.errorCode);
    expect(details.variant).toBe(v.expected.variant);
    expect(details.value).toEqual(v.expected.value === undefined ? fallback : v.expected.value);
    await client.close();
  });
});

/** The OpenFeature getter a caller would use: the value's own type, boolean when there is none. */
function typeOfExpected(v: FlagVector): 'boolean' | 'string' | 'number' | 'object' {
  const value = v.expected.value;
  if (value === undefined || typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string' || typeof value === 'number') return typeof value as 'string' | 'number';
  return 'object';
}

describe('TenantConfigProvider: context, readiness, events', () => {
  let client: TestConfigClient;
  beforeEach(async () => {
    client = createTestClient({}, { tenants: { acme: { 'flags:checkout': { enabled: true, rolloutPercent: 100 }, 'tenantconfig:plan': 'gold' } } });
    client.setTenantAttributes('acme', { plan: 'gold' });
    await client.start();
  });
  afterEach(async () => {
    await OpenFeature.close();
    await client.close();
  });

  it('a context without tenantId on a multi-tenant client: INVALID_CONTEXT and the default', async () => {
    await OpenFeature.setProviderAndWait('ctx', new TenantConfigProvider(client));

    const details = await OpenFeature.getClient('ctx').getBooleanDetails('checkout', false, { targetingKey: 'user-1' });
    const bad = await OpenFeature.getClient('ctx').getBooleanDetails('checkout', false, { tenantId: 'no such/tenant' });

    expect(details).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
    expect(details.errorMessage).toMatch(/set 'tenantId'/);
    expect(bad).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
  });

  it("one tenant's view as the provider: no tenantId needed", async () => {
    await OpenFeature.setProviderAndWait('view', new TenantConfigProvider(client.forTenant('acme')));

    const details = await OpenFeature.getClient('view').getBooleanDetails('checkout', false, { targetingKey: 'user-1' });

    expect(details).toMatchObject({ value: true, variant: 'on', reason: 'SPLIT', flagMetadata: {} });
    expect(OpenFeature.getProviderMetadata('view').name).toBe('tenant-config');
  });

  it('PROVIDER_NOT_READY before the view is ready; a tenant a client of every tenant holds nothing of: FLAG_NOT_FOUND', async () => {
    let release!: () => void;
    const never = new Promise<void>((r) => (release = r));
    const view = client.forTenant('acme');
    const pending = new TenantConfigProvider({
      tenantId: 'acme',
      flagDetails: view.flagDetails.bind(view),
      onChange: view.onChange.bind(view),
      ready: () => never,
    });
    OpenFeature.setProvider('pending', pending);

    const early = await OpenFeature.getClient('pending').getBooleanDetails('checkout', false, {});
    await OpenFeature.setProviderAndWait('multi', new TenantConfigProvider(client));
    const unknownTenant = await OpenFeature.getClient('multi').getBooleanDetails('checkout', false, { tenantId: 'globex' });
    release();

    expect(early).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    expect(unknownTenant).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('a change of a flag emits ConfigurationChanged with flagsChanged; other keys emit nothing', async () => {
    await OpenFeature.setProviderAndWait('events', new TenantConfigProvider(client));
    const flags = OpenFeature.getClient('events');
    const heard: EventDetails[] = [];
    flags.addHandler(ProviderEvents.ConfigurationChanged, (e) => heard.push(e as EventDetails));
    // A tenant is watched once it has been evaluated.
    expect(await flags.getBooleanValue('checkout', false, { tenantId: 'acme' })).toBe(true);

    client.set('tenantconfig:plan', 'pro', 'acme');
    client.set('flags:checkout', false, 'acme');
    await new Promise((r) => setImmediate(r));

    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ flagsChanged: ['checkout'], metadata: { tenantId: 'acme' } });
    expect(await flags.getBooleanDetails('checkout', true, { tenantId: 'acme' })).toMatchObject({ value: false, reason: 'DISABLED', variant: 'off' });
  });

  it('TYPE_MISMATCH when the value is not the type asked for', async () => {
    await OpenFeature.setProviderAndWait('types', new TenantConfigProvider(client));

    const details = await OpenFeature.getClient('types').getStringDetails('checkout', 'x', { tenantId: 'acme' });

    expect(details).toMatchObject({ value: 'x', reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
  });
});
