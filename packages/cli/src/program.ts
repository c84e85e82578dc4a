/**
 * The commands of `tenant-config` (docs/design.md §8.4) on commander. {@link run} parses, runs
 * one command and returns its exit code: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { Api, closeConnections, type Json } from './api';
import { credentialsPath, removeProfile, saveProfile, type Credential, type LocalRequest } from './credentials';
import { CliError, EXIT, usageError, type ExitCode } from './errors';
import { formatDiff, jsonDiff } from './json-diff';
import { describeEvaluation, evaluatePath } from './flags';
import { EXPORT_FORMAT, parseExportFile, planImport, type ExportFile, type PlanAction } from './import-plan';
import { historyPath, itemPath, parseKey, parseTenant, platformLayer, segmentLayer, tenantLayer, type Layer } from './layers';
import { loginClientCredentials, loginCognitoUser, loginLocal } from './login';
import { compact, describeItem, processIo, table, type Io } from './output';
import { ask, closePrompts } from './prompt';
import { describeRollout, rolloutBody, rolloutPath, rolloutRows } from './rollouts';
import { localDirFor, profileOf, resolveEndpoint, tokenProvider, type GlobalOptions } from './settings';
import { runWatch } from './watch';

export interface Deps {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** The API client for the resolved endpoint and token; replaced in unit tests. */
  readonly api: (options: GlobalOptions, env: NodeJS.ProcessEnv) => Pick<Api, 'request' | 'listAll'>;
}

export const defaultDeps: Deps = {
  io: processIo,
  env: process.env,
  api: (options, env) => new Api(resolveEndpoint(options, env), tokenProvider(options, env)),
};

const HELP_FOOTER = `
Endpoint: --endpoint, TENANT_CONFIG_ENDPOINT, the profile's (login --endpoint), or .local/endpoints.json
(found walking up from the working directory). Token: --token, TENANT_CONFIG_TOKEN, or the profile
saved by login (refreshed when it expires).

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict (412/409).`;

const positiveInt = (name: string) => (value: string) => {
  if (!/^[1-9]\d*$/.test(value)) throw usageError(`${name} must be a positive integer, got '${value}'`);
  return Number(value);
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw usageError(`${what} is not JSON (${(e as Error).message}); quote strings: '"gold"'`);
  }
}

function readFileArg(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

const matchHeaders = (o: { ifMatch?: number; create?: boolean }): Record<string, string> => {
  if (o.ifMatch !== undefined && o.create) throw usageError('--if-match and --create do not go together');
  if (o.ifMatch !== undefined) return { 'if-match': `"${o.ifMatch}"` };
  if (o.create) return { 'if-none-match': '*' };
  return {};
};

class Runner {
  constructor(
    private readonly deps: Deps,
    private readonly cmd: Command,
  ) {}

  get globals(): GlobalOptions {
    return this.cmd.optsWithGlobals<GlobalOptions>();
  }
  get json(): boolean {
    return this.globals.output === 'json';
  }
  api() {
    return this.deps.api(this.globals, this.deps.env);
  }
  out(text: string): void {
    this.deps.io.stdout(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
  err(text: string): void {
    this.deps.io.stderr(text.endsWith('\n') ? text : `${text}\n`);
  }
  emit(json: unknown, text: () => string): void {
    this.out(this.json ? `${JSON.stringify(json, null, 2)}\n` : text());
  }
}

type Action = (r: Runner, ...args: Json[]) => Promise<void>;

/** Wraps an action: the runner first, commander's positional args and options after. */
function act(deps: Deps, fn: Action) {
  return async function (this: Command, ...args: unknown[]) {
    await fn(new Runner(deps, this), ...args.slice(0, -1));
  };
}

// --- item commands, the same for every layer -------------------------------------------------

async function getItem(r: Runner, layer: Layer, key: string, o: { layer?: string }) {
  const query = o.layer ? `?layer=${encodeURIComponent(o.layer)}` : '';
  const res = await r.api().request('GET', `${itemPath(layer, parseKey(key))}${query}`);
  r.emit(res.body, () => describeItem(res.body));
}

async function putItem(
  r: Runner,
  layer: Layer,
  key: string,
  json: string | undefined,
  o: { file?: string; ifMatch?: number; create?: boolean; comment?: string },
) {
  if ((json === undefined) === (o.file === undefined)) throw usageError('give the value as JSON or with --file F, not both');
  const value = o.file !== undefined ? parseJsonArg(readFileArg(o.file), o.file) : parseJsonArg(json!, 'the value');
  const res = await r.api().request('PUT', itemPath(layer, parseKey(key)), {
    body: o.comment !== undefined ? { value, comment: o.comment } : { value },
    headers: matchHeaders(o),
  });
  r.emit(res.body, () => `${res.status === 201 ? 'created' : 'updated'} ${key} in ${layer.label}: version ${res.body.version}`);
}

async function rmItem(r: Runner, layer: Layer, key: string, o: { ifMatch?: number }) {
  await r.api().request('DELETE', itemPath(layer, parseKey(key)), { headers: matchHeaders(o) });
  r.emit({ key, deleted: true }, () => `deleted ${key} from ${layer.label}`);
}

async function lsItems(r: Runner, layer: Layer, o: { prefix?: string }) {
  const items = await r.api().listAll(layer.itemsPath, { prefix: o.prefix });
  r.emit({ items }, () =>
    items.length === 0
      ? `no keys in ${layer.label}${o.prefix ? ` with prefix ${o.prefix}` : ''}\n`
      : table(items.map((i: Json) => [i.key, `v${i.version}`, i.source ?? '', compact(i.value)])),
  );
}

async function historyOf(r: Runner, layer: Layer, key: string): Promise<Json[]> {
  const res = await r.api().request('GET', `${historyPath(layer, parseKey(key))}?limit=100`);
  return res.body.items;
}

async function showHistory(r: Runner, layer: Layer, key: string) {
  const items = await historyOf(r, layer, key);
  r.emit({ key, items }, () =>
    table(
      items.map((h: Json) => [
        `v${h.version}`,
        String(h.updatedAt ?? ''),
        String(h.updatedBy ?? ''),
        h.comment ? JSON.stringify(h.comment) : '',
        compact(h.value),
      ]),
    ),
  );
}

async function diffVersions(r: Runner, layer: Layer, key: string, v1: string, v2: string) {
  const [from, to] = [positiveInt('V1')(v1), positiveInt('V2')(v2)];
  const items = await historyOf(r, layer, key);
  const find = (v: number) => {
    const entry = items.find((h: Json) => h.version === v);
    if (!entry)
      throw new CliError(`${key} has no version ${v} in its history (versions: ${items.map((h: Json) => h.version).join(', ') || 'none'})`, EXIT.notFound);
    return entry;
  };
  const a = find(from);
  const b = find(to);
  const changes = jsonDiff(a.value, b.value);
  r.emit({ key, from, to, changes }, () => [`--- ${key} version ${from}`, `+++ ${key} version ${to}`, ...formatDiff(changes)].join('\n'));
}

async function restoreItem(r: Runner, layer: Layer, key: string, o: { version: number; ifMatch?: number; comment?: string }) {
  const res = await r.api().request('POST', `${itemPath(layer, parseKey(key))}/restore`, {
    body: o.comment !== undefined ? { version: o.version, comment: o.comment } : { version: o.version },
    headers: matchHeaders(o),
  });
  r.emit(res.body, () => `restored ${key} in ${layer.label} to the value of version ${o.version}: now version ${res.body.version}`);
}

const ifMatchOption = () => new Option('--if-match <version>', 'only if the current version is this (412 → exit 4)').argParser(positiveInt('--if-match'));

/** get/put/rm/ls/history/diff/restore on `parent`, the layer from each command's arguments and options. */
function itemCommands(deps: Deps, parent: Command, layerOf: (args: string[], opts: { tenant?: string }) => Layer, segmentArg: boolean, withTenant: boolean) {
  const split = (args: unknown[]): { layerArgs: string[]; rest: unknown[] } =>
    segmentArg ? { layerArgs: [args[0] as string], rest: args.slice(1) } : { layerArgs: [], rest: args };
  const tenantOpt = (c: Command) => (withTenant ? c.option('--tenant <id>', 'a named tenant (/v1/tenants/{id}/...: services and operators)') : c);
  const on = (fn: (r: Runner, layer: Layer, ...rest: Json[]) => Promise<void>) =>
    act(deps, async (r, ...args) => {
      const { layerArgs, rest } = split(args);
      const opts = rest[rest.length - 1] as { tenant?: string };
      await fn(r, layerOf(layerArgs, opts), ...rest);
    });

  const withSeg = (c: Command) => (segmentArg ? c.argument('<segment>', 'attribute=value, e.g. plan=gold') : c);

  tenantOpt(withSeg(parent.command('get')).argument('<key>'))
    .description('show the value of KEY with its version and source')
    .option('--layer <layer>', "'tenant': the tenant's own value only (404 if none)")
    .action(on(getItem));
  tenantOpt(withSeg(parent.command('put')).argument('<key>').argument('[json]', 'the value as JSON'))
    .description('write KEY (the value as JSON, or --file)')
    .option('--file <file>', "read the value from a JSON file ('-': stdin)")
    .addOption(ifMatchOption())
    .option('--create', 'only if KEY does not exist yet (If-None-Match: *)')
    .option('--comment <text>', 'kept in history (≤ 256 characters)')
    .action(on(putItem));
  tenantOpt(withSeg(parent.command('rm')).argument('<key>'))
    .description('delete KEY')
    .addOption(ifMatchOption())
    .action(on(rmItem));
  tenantOpt(withSeg(parent.command('ls')))
    .description('list the keys (every page)')
    .option('--prefix <prefix>', 'a key prefix: tenantconfig: or paramconfig:db/')
    .action(on(lsItems));
  tenantOpt(withSeg(parent.command('history')).argument('<key>'))
    .description("KEY's versions, newest first")
    .action(on(showHistory));
  tenantOpt(withSeg(parent.command('diff')).argument('<key>').argument('<v1>').argument('<v2>'))
    .description('what changed in KEY from version V1 to V2')
    .action(on(diffVersions));
  tenantOpt(withSeg(parent.command('restore')).argument('<key>'))
    .description("a new version of KEY holding version N's value")
    .addOption(new Option('--version <n>', 'the version to restore').argParser(positiveInt('--version')).makeOptionMandatory())
    .addOption(ifMatchOption())
    .option('--comment <text>', 'kept in history (default: restore of version N)')
    .action(on(restoreItem));
}

// --- export and import ------------------------------------------------------------------------

/** The tenant's own values (not the defaults it inherits), with their versions. */
async function ownItems(r: Runner, layer: Layer): Promise<Json[]> {
  const items = await r.api().listAll(layer.itemsPath);
  return items.filter((i: Json) => i.source === undefined || i.source === 'tenant');
}

async function exportTenant(r: Runner, o: { tenant?: string }) {
  const items = await ownItems(r, tenantLayer(o.tenant));
  const file: ExportFile = {
    format: EXPORT_FORMAT,
    tenant: o.tenant ?? null,
    exportedAt: new Date().toISOString(),
    items: items.map((i: Json) => ({ key: i.key, value: i.value, version: i.version })),
  };
  r.out(`${JSON.stringify(file, null, 2)}\n`);
}

function describePlan(plan: readonly PlanAction[]): string {
  const lines: string[] = [];
  for (const a of plan) {
    if (a.kind === 'create') lines.push(`+ ${a.key} (create) = ${compact(a.value)}`);
    else if (a.kind === 'update') lines.push(`~ ${a.key} (update${a.forced ? ', forced over a newer version' : ''})`, ...formatDiff(a.diff, '    '));
    else if (a.kind === 'conflict') {
      const now = a.currentVersion === undefined ? 'deleted since' : `now version ${a.currentVersion}`;
      lines.push(`! ${a.key} (conflict: exported at version ${a.exportedVersion}, ${now}; --force to overwrite)`, ...formatDiff(a.diff, '    '));
    }
  }
  const count = (k: PlanAction['kind']) => plan.filter((a) => a.kind === k).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged, ${count('conflict')} in conflict`);
  return lines.join('\n');
}

async function importTenant(r: Runner, fileName: string, o: { tenant?: string; dryRun?: boolean; force?: boolean }) {
  let file: ExportFile;
  try {
    file = parseExportFile(readFileArg(fileName), fileName);
  } catch (e) {
    throw e instanceof CliError ? e : new CliError((e as Error).message);
  }
  const tenant = o.tenant ?? file.tenant ?? undefined;
  const layer = tenantLayer(tenant);
  const current = (await ownItems(r, layer)).map((i: Json) => ({ key: i.key, value: i.value, version: i.version }));
  const plan = planImport(file, current, o.force ?? false);
  const conflicts = plan.filter((a) => a.kind === 'conflict');
  const writes = plan.filter((a): a is Extract<PlanAction, { kind: 'create' | 'update' }> => a.kind === 'create' || a.kind === 'update');
  const applied: string[] = [];
  const report = (failed?: string) =>
    r.emit(
      { tenant: tenant ?? null, dryRun: o.dryRun ?? false, plan: plan.map(({ kind, key }) => ({ kind, key })), applied, ...(failed ? { failed } : {}) },
      () => describePlan(plan),
    );
  if (conflicts.length > 0) {
    report();
    throw new CliError(`${conflicts.length} key(s) changed since the export; nothing was written (--force to overwrite them)`, EXIT.conflict);
  }
  if (o.dryRun) {
    report();
    return;
  }
  const api = r.api();
  for (const w of writes) {
    try {
      await api.request('PUT', itemPath(layer, w.key), { body: { value: w.value }, headers: w.headers });
      applied.push(w.key);
    } catch (e) {
      report(w.key);
      const written = applied.length > 0 ? `${applied.length} written before it (${applied.join(', ')})` : 'nothing written before it';
      throw e instanceof CliError ? new CliError(`${w.key}: ${e.message}; ${written}`, e.exitCode, e.problem) : e;
    }
  }
  report();
  if (!r.json) r.err(`imported into ${layer.label}: ${applied.length} written`);
}

// --- tenant registry --------------------------------------------------------------------------

const tenantPath = (t: string) => `/v1/tenants/${encodeURIComponent(parseTenant(t))}`;
const describeTenant = (t: Json) =>
  `${t.tenantId}  ${Object.entries(t.attributes ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')}  (version ${t.version}${t.offboarding ? ', offboarding' : ''})\n`;

function parseAttrs(attrs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of attrs) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw usageError(`--attr must be name=value, got '${a}'`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function offboard(r: Runner, tenant: string) {
  const api = r.api();
  for (let round = 1; ; round++) {
    const res = await api.request('DELETE', tenantPath(tenant), { accept: [202] });
    if (res.status !== 202) {
      r.emit(res.body, () => `offboarded ${tenant}: ${res.body?.deletedKeys ?? 0} keys deleted`);
      return;
    }
    r.err(`offboarding ${tenant}: ${res.body?.state ?? 'in_progress'}, ${res.body?.deletedKeys ?? 0} keys deleted so far (round ${round})`);
    if (round >= 1000) throw new CliError(`offboarding ${tenant} is still in progress after ${round} rounds: run tenants rm ${tenant} again to resume`);
    const retryAfter = Number(res.headers.get('retry-after') ?? '1');
    await sleep(Math.min(Math.max(Number.isFinite(retryAfter) ? retryAfter : 1, 0.05), 30) * 1000);
  }
}

function tenantCommands(deps: Deps, program: Command) {
  const tenants = program.command('tenants').description('the tenant registry (platform operators)');
  tenants
    .command('get')
    .argument('<tenant>')
    .description("a tenant's record")
    .action(
      act(deps, async (r, t: string) => {
        const res = await r.api().request('GET', tenantPath(t));
        r.emit(res.body, () => describeTenant(res.body));
      }),
    );
  tenants
    .command('put')
    .argument('<tenant>')
    .description('register a tenant or replace its attributes')
    .option('--attr <name=value>', 'an attribute (repeatable): --attr plan=gold --attr region=eu', collect, [])
    .addOption(ifMatchOption())
    .option('--create', 'only if the tenant is not registered yet')
    .action(
      act(deps, async (r, t: string, o: { attr: string[]; ifMatch?: number; create?: boolean }) => {
        const res = await r.api().request('PUT', tenantPath(t), { body: { attributes: parseAttrs(o.attr) }, headers: matchHeaders(o) });
        r.emit(res.body, () => `${res.status === 201 ? 'registered' : 'updated'} ${describeTenant(res.body)}`);
      }),
    );
  tenants
    .command('ls')
    .description('every registered tenant')
    .action(
      act(deps, async (r) => {
        const items = await r.api().listAll('/v1/tenants');
        r.emit({ items }, () => (items.length === 0 ? 'no tenants registered\n' : items.map(describeTenant).join('')));
      }),
    );
  tenants
    .command('rm')
    .argument('<tenant>')
    .description('offboard a tenant: every key of it removed (repeats while the API answers 202)')
    .action(act(deps, async (r, t: string) => offboard(r, t)));
}

// --- rollouts ---------------------------------------------------------------------------------

function rolloutCommands(deps: Deps, program: Command) {
  const rollout = program
    .command('rollout')
    .alias('rollouts')
    .description('staged rollouts of a platform or segment default: waves, bake time, rollback on an alarm (platform operators)');
  rollout
    .command('start')
    .argument('<key>')
    .argument('[json]', 'the new value as JSON')
    .description('roll KEY out to its new value in waves of tenants')
    .option('--file <file>', "read the value from a JSON file ('-': stdin)")
    .requiredOption('--layer <layer>', 'platform, or segment:<attribute>=<value> (e.g. segment:plan=gold)')
    .option('--waves <percents>', 'percent of tenants in each wave, the last 100 (API default 1,10,50,100)')
    .option('--bake <seconds>', 'time each wave runs before the next (API default 300; every minute at most on AWS)')
    .option('--alarm <name>', 'roll back when this alarm is in ALARM (a CloudWatch alarm on AWS)')
    .action(
      act(deps, async (r, key: string, json: string | undefined, o: { file?: string; layer: string; waves?: string; bake?: string; alarm?: string }) => {
        if ((json === undefined) === (o.file === undefined)) throw usageError('give the value as JSON or with --file F, not both');
        const value = o.file !== undefined ? parseJsonArg(readFileArg(o.file), o.file) : parseJsonArg(json!, 'the value');
        const res = await r.api().request('POST', '/v1/rollouts', { body: rolloutBody({ key, value, ...o }) });
        r.emit(res.body, () => `started ${describeRollout(res.body)}`);
      }),
    );
  rollout
    .command('ls')
    .description('rollouts, newest first (every page)')
    .action(
      act(deps, async (r) => {
        const items = await r.api().listAll('/v1/rollouts');
        r.emit({ items }, () => (items.length === 0 ? 'no rollouts\n' : rolloutRows(items)));
      }),
    );
  rollout
    .command('get')
    .argument('<id>')
    .description('a rollout: its state, live wave and who did what')
    .action(
      act(deps, async (r, id: string) => {
        const res = await r.api().request('GET', rolloutPath(id));
        r.emit(res.body, () => describeRollout(res.body));
      }),
    );
  const commands = [
    ['pause', 'hold the live wave (tenants keep what they have)'],
    ['resume', 'go on; the live wave bakes again from now'],
    ['rollback', 'every tenant back on the old value'],
  ] as const;
  for (const [name, description] of commands) {
    rollout
      .command(name)
      .argument('<id>')
      .description(`${description}; a finished rollout refuses (409 → exit 4)`)
      .action(
        act(deps, async (r, id: string) => {
          const res = await r.api().request('POST', `${rolloutPath(id)}/${name}`);
          r.emit(res.body, () => describeRollout(res.body));
        }),
      );
  }
}

// --- flags ------------------------------------------------------------------------------------

function flagCommands(deps: Deps, program: Command) {
  const flag = program.command('flag').alias('flags').description('feature flags (flags: keys) as the API evaluates them for a tenant');
  flag
    .command('evaluate')
    .argument('<name>', 'the flag: checkout for flags:checkout')
    .description('evaluate NAME for your tenant (or --tenant T): its value, variant and reason; a flag no layer holds exits 3')
    .option('--targeting-key <key>', 'the targeting key of splits (default: the tenant id)')
    .option('--context <name=value>', 'an evaluation-context attribute (repeatable): --context country=FR', collect, [])
    .option('--tenant <id>', 'a named tenant (/v1/tenants/{id}/flags/...: services and operators)')
    .action(
      act(deps, async (r, name: string, o: { targetingKey?: string; context: string[]; tenant?: string }) => {
        const path = evaluatePath({ name, ...o }); // usage errors before the endpoint and token are looked up
        const res = await r.api().request('GET', path);
        r.emit(res.body, () => describeEvaluation(res.body));
      }),
    );
}

// --- login ------------------------------------------------------------------------------------

interface LoginOptions {
  local?: boolean;
  localDir?: string;
  tenant?: string;
  admin?: boolean;
  operator?: string;
  service?: string;
  scope: string[];
  ttl?: number;
  region?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  mfaCode?: string;
  cognitoEndpoint?: string;
  tokenUrl?: string;
}

async function login(r: Runner, o: LoginOptions, env: NodeJS.ProcessEnv) {
  const g = r.globals;
  const profile = profileOf(g, env);
  const file = credentialsPath(env);
  const where = { ...(g.endpoint ? { endpoint: g.endpoint } : {}), ...(g.grpc ? { grpc: g.grpc } : {}) };
  let credential: Credential;
  if (o.local) {
    const kinds = [o.tenant, o.operator, o.service].filter((k) => k !== undefined);
    if (kinds.length !== 1) throw usageError('login --local needs exactly one of --tenant T, --operator NAME or --service ID');
    if (o.admin && o.tenant === undefined) throw usageError('--admin goes with --tenant');
    const request: LocalRequest =
      o.tenant !== undefined
        ? { tenant: o.tenant, admin: o.admin ?? false }
        : o.operator !== undefined
          ? { operator: o.operator }
          : { service: o.service!, scopes: ['tenant-config/read', ...o.scope] };
    const localDir = localDirFor(o.localDir, env);
    const tokens = await loginLocal(localDir, request, o.ttl);
    credential = { kind: 'local', localDir, request, ...tokens, ...where };
  } else if (o.tokenUrl !== undefined) {
    const clientSecret = o.clientSecret ?? env.TENANT_CONFIG_CLIENT_SECRET;
    if (!o.clientId || !clientSecret) throw usageError('client credentials need --client-id and --client-secret (or TENANT_CONFIG_CLIENT_SECRET)');
    const input = { tokenUrl: o.tokenUrl, clientId: o.clientId, clientSecret, scopes: o.scope.length > 0 ? o.scope : undefined };
    const tokens = await loginClientCredentials(input);
    credential = { kind: 'client-credentials', ...input, ...tokens, ...where };
  } else if (o.username !== undefined) {
    if (!o.clientId || !o.region) throw usageError('a user login needs --region and --client-id (the app client of the user pool)');
    const password = o.password ?? env.TENANT_CONFIG_PASSWORD ?? (await ask(`Password for ${o.username}: `, true));
    const clientSecret = o.clientSecret ?? env.TENANT_CONFIG_CLIENT_SECRET;
    const tokens = await loginCognitoUser({
      region: o.region,
      clientId: o.clientId,
      clientSecret,
      username: o.username,
      password,
      cognitoEndpoint: o.cognitoEndpoint,
      mfaCode: async (challenge) => o.mfaCode ?? (await ask(challenge === 'SMS_MFA' ? 'Code sent by SMS: ' : 'Code from your authenticator app: ')),
    });
    credential = {
      kind: 'cognito-user',
      region: o.region,
      clientId: o.clientId,
      ...(clientSecret ? { clientSecret } : {}),
      username: o.username,
      ...(o.cognitoEndpoint ? { cognitoEndpoint: o.cognitoEndpoint } : {}),
      ...tokens,
      ...where,
    };
  } else {
    throw usageError(
      'login how? --local (a checkout), --username U --region R --client-id ID (Cognito user), or --token-url URL --client-id ID --client-secret S (client credentials)',
    );
  }
  saveProfile(file, profile, credential);
  const expiresAt = new Date(credential.expiresAt).toISOString();
  r.emit(
    { profile, kind: credential.kind, expiresAt, file },
    () => `logged in (${credential.kind}) as profile ${profile}; token valid until ${expiresAt}; saved in ${file}`,
  );
}

// --- the program ------------------------------------------------------------------------------

export function buildProgram(deps: Deps = defaultDeps): Command {
  const program = new Command('tenant-config')
    .description('Operate the tenant configuration service: keys, defaults, segments, the tenant registry, rollouts, flags.')
    .option('--endpoint <url>', 'the HTTP API (env TENANT_CONFIG_ENDPOINT)')
    .option('--grpc <host:port>', 'the Watch fanout, for watch (env TENANT_CONFIG_GRPC_ENDPOINT)')
    .option('--token <jwt>', 'an access token (env TENANT_CONFIG_TOKEN)')
    .option('--profile <name>', 'the credentials profile (env TENANT_CONFIG_PROFILE; default "default")')
    .addOption(new Option('-o, --output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
    .addHelpText('after', HELP_FOOTER)
    .showHelpAfterError('(tenant-config --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.io.stdout(s), writeErr: (s) => deps.io.stderr(s) });

  itemCommands(deps, program, (_args, o) => tenantLayer(o.tenant), false, true);
  program
    .command('watch')
    .description('print changes as they arrive, one line each (json: one object per line); Ctrl-C to stop')
    .option('--prefix <prefix>', 'only keys starting with this')
    .option('--tenant <id>', 'a named tenant (services and operators)')
    .option('--all-tenants', 'every tenant (services and operators)')
    .action(
      act(deps, async (r, o: { prefix?: string; tenant?: string; allTenants?: boolean }) =>
        runWatch(r.globals, o, deps.env, { out: (s) => r.out(s), err: (s) => r.err(s) }),
      ),
    );
  program
    .command('export')
    .description("write the tenant's own values with their versions as JSON to stdout")
    .option('--tenant <id>', 'a named tenant (operators)')
    .action(act(deps, exportTenant));
  program
    .command('import')
    .argument('<file>', "an export ('-': stdin)")
    .description('write an export back: shows a diff, writes with If-Match, refuses keys changed since the export')
    .option('--tenant <id>', "the tenant to import into (default: the file's, else your own)")
    .option('--dry-run', 'show what would be written, write nothing')
    .option('--force', 'overwrite keys that changed since the export')
    .action(act(deps, importTenant));

  const defaults = program.command('defaults').description('platform defaults (operators write; everyone reads)');
  itemCommands(deps, defaults, () => platformLayer(), false, false);
  const segments = program.command('segments').description('segment defaults, e.g. segments put plan=gold tenantconfig:limits \'{"max": 10}\'');
  itemCommands(deps, segments, (args) => segmentLayer(args[0]), true, false);
  tenantCommands(deps, program);
  rolloutCommands(deps, program);
  flagCommands(deps, program);

  program
    .command('login')
    .description('get a token and keep it in the credentials file (mode 0600)')
    .option('--local', "the checkout's dev signer (npm start)")
    .option('--local-dir <dir>', 'the local data directory (default: where .local/endpoints.json is)')
    .option('--tenant <id>', '--local: a user of this tenant')
    .option('--admin', '--local: in config-admins (writes its tenant)')
    .option('--operator <name>', '--local: a platform operator')
    .option('--service <id>', '--local: a service (client credentials)')
    .option('--scope <scope>', 'a scope (repeatable): tenant-config/read-secrets', collect, [])
    .addOption(new Option('--ttl <seconds>', '--local: token lifetime').argParser(positiveInt('--ttl')))
    .option('--region <region>', 'Cognito: the user pool region')
    .option('--client-id <id>', 'Cognito: the app client id')
    .option('--client-secret <secret>', 'Cognito: the app client secret (env TENANT_CONFIG_CLIENT_SECRET)')
    .option('--username <name>', 'Cognito: user password login (USER_PASSWORD_AUTH)')
    .option('--password <password>', 'Cognito: the password (env TENANT_CONFIG_PASSWORD; else asked)')
    .option('--mfa-code <code>', 'Cognito: the MFA code (else asked when the pool wants one)')
    .option('--cognito-endpoint <url>', 'Cognito: another endpoint (tests)')
    .option('--token-url <url>', 'client credentials: the token endpoint, https://<domain>/oauth2/token')
    .action(act(deps, async (r, o: LoginOptions) => login(r, o, deps.env)));
  program
    .command('logout')
    .description("forget the profile's token")
    .option('--all', 'every profile')
    .action(
      act(deps, async (r, o: { all?: boolean }) => {
        const profile = o.all ? undefined : profileOf(r.globals, deps.env);
        const removed = removeProfile(credentialsPath(deps.env), profile);
        r.emit({ profile: profile ?? null, removed }, () =>
          removed ? `logged out${profile ? ` of profile ${profile}` : ' of every profile'}` : 'nothing to log out of',
        );
      }),
    );
  program
    .command('token')
    .description('print the current access token (refreshed if needed), for curl and friends')
    .action(
      act(deps, async (r) => {
        const token = await tokenProvider(r.globals, deps.env)();
        r.emit({ token }, () => token);
      }),
    );
  return program;
}

/** Parses `argv` (without node and the script), runs the command, returns the exit code. */
export async function run(argv: readonly string[], deps: Deps = defaultDeps): Promise<ExitCode> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (e.code === 'commander.executeSubCommandAsync') return EXIT.error;
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CliError) {
      deps.io.stderr(`tenant-config: ${e.message}\n`);
      return e.exitCode;
    }
    deps.io.stderr(`tenant-config: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.error;
  } finally {
    closePrompts();
    closeConnections();
  }
}
