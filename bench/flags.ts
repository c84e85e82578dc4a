/**
 * `npm run bench -- flags` — the cost of one flag evaluation in the SDK (ns, p50/p99), four flags
 * (boolean, percentage, weighted variants, a rule on a tenant attribute), three ways in one run:
 * `view.flag` (the SDK, synchronous), our OpenFeature provider through an OpenFeature client, and
 * OpenFeature's own InMemoryProvider through the same client API, given the same flags (its
 * contextEvaluator does the same split and rule). Samples are batches of BATCH evaluations (a
 * single one is below the clock's resolution), ns per evaluation = batch time / BATCH.
 * Settings: FLAGS_BENCH_BATCHES (default 2000), FLAGS_BENCH_BATCH (default 100).
 */
import { InMemoryProvider, OpenFeature, type EvaluationContext, type JsonValue } from '@openfeature/server-sdk';
import { createTestClient } from '../client';
import { TenantConfigProvider } from '../client/openfeature';
import { bucketOf } from '../core/bucket';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, percentile, round, runAsScript, table, writeResults } from './support/report';

const TENANT = 'acme';
const FLAGS = {
  boolean: true,
  percentage: { enabled: true, rolloutPercent: 30 },
  variants: {
    enabled: true,
    variants: [
      { name: 'blue', value: 'blue', weight: 50 },
      { name: 'green', value: 'green', weight: 30 },
      { name: 'red', value: 'red', weight: 20 },
    ],
  },
  rule: {
    enabled: true,
    rolloutPercent: 0,
    rules: [{ when: [{ attribute: 'tenant.plan', op: 'in', values: ['gold'] }], serve: { variant: 'on' } }],
  },
} as const;
type FlagName = keyof typeof FLAGS;
const FALLBACK: Record<FlagName, boolean | string> = { boolean: false, percentage: false, variants: 'none', rule: false };

/** InMemoryProvider's flags, deciding as ours do (same buckets, same rule). */
function inMemoryFlags() {
  const split = (name: string, ctx: EvaluationContext) => bucketOf([name, String(ctx.targetingKey ?? ctx.tenantId)], 10_000);
  return {
    boolean: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false },
    percentage: {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      disabled: false,
      contextEvaluator: (c: EvaluationContext) => (split('percentage', c) < 3000 ? 'on' : 'off'),
    },
    variants: {
      variants: { blue: 'blue', green: 'green', red: 'red' },
      defaultVariant: 'blue',
      disabled: false,
      contextEvaluator: (c: EvaluationContext) => {
        const b = split('variants', c);
        return b < 5000 ? 'blue' : b < 8000 ? 'green' : 'red';
      },
    },
    rule: {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      disabled: false,
      contextEvaluator: (c: EvaluationContext) => (c.plan === 'gold' ? 'on' : 'off'),
    },
  };
}

interface FlagsRow {
  readonly flag: FlagName;
  readonly way: string;
  readonly p50Ns: number;
  readonly p99Ns: number;
}

async function sample(batches: number, batch: number, evaluate: (i: number) => unknown | Promise<unknown>, isAsync: boolean): Promise<number[]> {
  const out: number[] = [];
  let i = 0;
  for (let b = 0; b < batches + batches / 10; b++) {
    const started = process.hrtime.bigint();
    if (isAsync) for (let n = 0; n < batch; n++) await evaluate(i++);
    else for (let n = 0; n < batch; n++) evaluate(i++);
    const ns = Number(process.hrtime.bigint() - started) / batch;
    // The first tenth warms the JIT up and is not kept.
    if (b >= batches / 10) out.push(ns);
  }
  return out;
}

export async function runFlags(): Promise<{ rows: FlagsRow[]; text: string; results: unknown }> {
  const batches = envNumber('FLAGS_BENCH_BATCHES', 2000);
  const batch = envNumber('FLAGS_BENCH_BATCH', 100);
  const client = createTestClient({}, { tenants: { [TENANT]: Object.fromEntries(Object.entries(FLAGS).map(([n, v]) => [`flags:${n}`, v])) } });
  client.setTenantAttributes(TENANT, { plan: 'gold' });
  await client.start();
  const view = client.forTenant(TENANT);
  await OpenFeature.setProviderAndWait('ours', new TenantConfigProvider(client));
  await OpenFeature.setProviderAndWait('in-memory', new InMemoryProvider(inMemoryFlags()));
  const ours = OpenFeature.getClient('ours');
  const inMemory = OpenFeature.getClient('in-memory');
  const keys = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
  const contexts = keys.map((targetingKey) => ({ targetingKey, tenantId: TENANT }));
  // InMemoryProvider has no registry: the tenant's plan rides in its context.
  const inMemoryContexts = keys.map((targetingKey) => ({ targetingKey, tenantId: TENANT, plan: 'gold' }));
  const viewContexts = keys.map((targetingKey) => ({ targetingKey }));

  const of = (c: typeof ours, flag: FlagName, ctx: EvaluationContext) =>
    typeof FALLBACK[flag] === 'boolean' ? c.getBooleanValue(flag, false, ctx) : c.getStringValue(flag, FALLBACK[flag] as string, ctx);

  const rows: FlagsRow[] = [];
  const agree: Record<string, boolean> = {};
  for (const flag of Object.keys(FLAGS) as FlagName[]) {
    // Same answers from the three, or the comparison is not fair.
    const answers = await Promise.all(
      keys
        .slice(0, 200)
        .map(
          async (_, i) =>
            [view.flag(flag, FALLBACK[flag], viewContexts[i]), await of(ours, flag, contexts[i]), await of(inMemory, flag, inMemoryContexts[i])] as JsonValue[],
        ),
    );
    agree[flag] = answers.every(([a, b, c]) => a === b && b === c);
    log(`flags: ${flag}`);
    const ways: Array<[string, (i: number) => unknown, boolean]> = [
      ['view.flag (SDK)', (i) => view.flag(flag, FALLBACK[flag], viewContexts[i % 1000]), false],
      ['OpenFeature client → TenantConfigProvider', (i) => of(ours, flag, contexts[i % 1000]), true],
      ['OpenFeature client → InMemoryProvider', (i) => of(inMemory, flag, inMemoryContexts[i % 1000]), true],
    ];
    for (const [way, evaluate, isAsync] of ways) {
      const ns = await sample(batches, batch, evaluate, isAsync);
      rows.push({ flag, way, p50Ns: round(percentile(ns, 50), 0), p99Ns: round(percentile(ns, 99), 0) });
    }
  }
  await OpenFeature.close();
  await client.close();

  const results = {
    rows,
    metadata: {
      benchmark: 'flags',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      settings: { batches, batch, targetingKeys: keys.length, flags: FLAGS },
      answersAgree: agree,
      setup:
        'one process; the SDK is a test client (offline, the same store and views as a live one); both OpenFeature clients have no hooks; InMemoryProvider gets the same flags as contextEvaluators with the same buckets',
      time: `ns per evaluation = time of a batch of ${batch} / ${batch}; p50/p99 over ${batches} batches after ${batches / 10} warm-up batches`,
    },
  };
  writeResults('flags', results);
  const text = [
    `flags — ns per evaluation, ${batches} batches of ${batch}, 1,000 targeting keys, tenant attributes {plan: gold}; answers agree: ${Object.values(agree).every(Boolean) ? 'yes' : JSON.stringify(agree)}`,
    table(
      ['flag', 'way', 'p50 ns', 'p99 ns'],
      rows.map((r) => [r.flag, r.way, r.p50Ns, r.p99Ns]),
    ),
    `machine: ${describeMachine(machineInfo())}`,
  ].join('\n');
  return { rows, text, results };
}

if (require.main === module) {
  runAsScript('flags', runFlags);
}
