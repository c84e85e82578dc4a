/**
 * The gRPC part of the principal matrix: every kind of principal (dev tokens shaped as Cognito
 * issues them) × what WatchRequest.tenants asks for × the tag watched → the status, and exactly
 * which items arrive, each with its tenant_id. One test per cell; the table is the spec.
 */
import * as grpc from '@grpc/grpc-js';
import { SCOPES } from '../../core/principal';
import { startHarness, type FanoutHarness } from './harness';

type Who = 'acme reader' | 'acme admin' | 'service' | 'service+secrets' | 'service without scope' | 'operator';
type Ask = 'empty' | 'own' | 'other' | 'list' | '*' | 'malformed' | '* and an id';
type Tag = 'tenantconfig' | 'secretconfig';

const TENANTS: Record<Ask, string[]> = {
  empty: [],
  own: ['acme'],
  other: ['globex'],
  list: ['acme', 'globex'],
  '*': ['*'],
  malformed: ['acme', 'a/b'],
  '* and an id': ['*', 'acme'],
};

const OK_ACME = ['acme'];
const OK_GLOBEX = ['globex'];
const OK_BOTH = ['acme', 'globex'];
const PD = 'PERMISSION_DENIED';
const IA = 'INVALID_ARGUMENT';
type Outcome = readonly string[] | typeof PD | typeof IA;

/** Per principal and tag: what arrives for each request, in ASKS order — the tenants whose items arrive (status OK), or the refusal. */
const ASKS: readonly Ask[] = ['empty', 'own', 'other', 'list', '*', 'malformed', '* and an id'];
const MATRIX: Record<Who, Record<Tag, readonly Outcome[]>> = {
  'acme reader': { tenantconfig: [OK_ACME, OK_ACME, PD, PD, PD, IA, IA], secretconfig: [PD, PD, PD, PD, PD, IA, IA] },
  'acme admin': { tenantconfig: [OK_ACME, OK_ACME, PD, PD, PD, IA, IA], secretconfig: [OK_ACME, OK_ACME, PD, PD, PD, IA, IA] },
  service: { tenantconfig: [PD, OK_ACME, OK_GLOBEX, OK_BOTH, OK_BOTH, IA, IA], secretconfig: [PD, PD, PD, PD, PD, IA, IA] },
  'service+secrets': { tenantconfig: [PD, OK_ACME, OK_GLOBEX, OK_BOTH, OK_BOTH, IA, IA], secretconfig: [PD, OK_ACME, OK_GLOBEX, OK_BOTH, OK_BOTH, IA, IA] },
  // Refused for its token, whatever it asks.
  'service without scope': { tenantconfig: [PD, PD, PD, PD, PD, PD, PD], secretconfig: [PD, PD, PD, PD, PD, PD, PD] },
  operator: { tenantconfig: [PD, OK_ACME, OK_GLOBEX, OK_BOTH, OK_BOTH, IA, IA], secretconfig: [PD, OK_ACME, OK_GLOBEX, OK_BOTH, OK_BOTH, IA, IA] },
};

const CELLS = (Object.keys(MATRIX) as Who[]).flatMap((who) =>
  ASKS.flatMap((ask, i) => (['tenantconfig', 'secretconfig'] as const).map((tag) => [who, ask, tag, MATRIX[who][tag][i]] as const)),
);

describe('Watch principal matrix', () => {
  let h: FanoutHarness;
  const tokens = {} as Record<Who, string>;

  beforeAll(async () => {
    h = await startHarness({ anyServiceClient: true, watch: { heartbeatIntervalMs: 60_000 } });
    for (const t of ['acme', 'globex']) {
      await h.writer.put(t, 'tenantconfig:plan', `${t}-plan`);
      await h.writer.put(t, 'secretconfig:api-key', `${t}-secret`);
    }
    tokens['acme reader'] = h.signer.signToken({ tenant: 'acme' });
    tokens['acme admin'] = h.signer.signToken({ tenant: 'acme', admin: true });
    tokens.service = h.signer.signServiceToken({ service: 'billing' });
    tokens['service+secrets'] = h.signer.signServiceToken({ service: 'vault', scopes: [SCOPES.read, SCOPES.readSecrets] });
    tokens['service without scope'] = h.signer.signServiceToken({ service: 'nosy', scopes: ['other-api/read'] });
    tokens.operator = h.signer.signOperatorToken({ operator: 'alice' });
  });
  afterAll(() => h.close());

  it.each(CELLS)('%s asking for tenants %s on %s: %j', async (who, ask, tag, expected) => {
    // Act
    const watch = h.watch(tokens[who], { tenants: TENANTS[ask], prefixes: [`${tag}:`], paged_snapshots: true });

    // Assert
    if (typeof expected === 'string') {
      const status = await watch.status;
      expect(grpc.status[status.code]).toBe(expected);
      expect(watch.events).toHaveLength(0);
      return;
    }
    await watch.until((r) => r.snapshots.some((s) => !s.more), 5000, 'the whole snapshot');
    const items = watch.snapshots.flatMap((s) => s.items);
    const want = expected.map((t) => [
      t,
      tag === 'tenantconfig' ? 'tenantconfig:plan' : 'secretconfig:api-key',
      `${t}-${tag === 'tenantconfig' ? 'plan' : 'secret'}`,
    ]);
    expect(items.map((i) => [i.tenant_id, i.key, JSON.parse(i.value_json)]).sort()).toEqual(want.sort());
    expect(watch.done).toBeUndefined();
    watch.cancel();
  });
});
