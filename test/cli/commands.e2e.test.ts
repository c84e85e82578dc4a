/**
 * Every command of `tenant-config` run as a child process against the real local system (on free
 * ports in a temp dir laid out like a checkout: `<tmp>/checkout/.local/endpoints.json`, commands
 * run from a subdirectory so the walk up is exercised). Each command in text and `--output json`,
 * and every exit code: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { LocalApi } from '../e2e/local-api';
import { cliEnv, runCli, type CliEnv } from './cli-process';

const TIMEOUT = 240_000;

describe('tenant-config against the local system', () => {
  let tmp: string;
  let system: LocalSystem;
  let api: LocalApi;
  let at: CliEnv;
  let configHome: string;
  const cli = (args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) => runCli(args, at, options);
  const op = (args: string[]) => cli(['--profile', 'op', ...args]);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cli-e2e-'));
    const checkout = join(tmp, 'checkout');
    mkdirSync(join(checkout, 'sub', 'dir'), { recursive: true });
    system = await startLocalSystem({ dir: join(checkout, '.local'), port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    configHome = join(tmp, 'home');
    at = cliEnv(join(checkout, 'sub', 'dir'), configHome);
    // 120 keys: more than one page of 100, so ls must follow nextToken.
    const admin = system.signer.signToken({ tenant: 'acme', admin: true });
    for (let i = 0; i < 120; i++) {
      const res = await api.put(`/v1/config/tenantconfig:bulk/k${String(i).padStart(3, '0')}`, admin, i);
      expect(res.status).toBe(201);
    }
  }, 90_000);
  afterAll(async () => {
    await system?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'logs in with the local dev signer: tenant admin, operator and reader profiles, stored with mode 0600',
    async () => {
      const admin = await cli(['login', '--local', '--tenant', 'acme', '--admin']);
      expect(admin.code).toBe(0);
      expect(admin.stdout).toMatch(/logged in \(local\) as profile default/);
      const file = join(configHome, 'tenant-config', 'credentials.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(configHome, 'tenant-config')).mode & 0o777).toBe(0o700);

      const operator = await cli(['login', '--local', '--operator', 'alice', '--profile', 'op', '--output', 'json']);
      expect(operator.code).toBe(0);
      expect(operator.json()).toMatchObject({ profile: 'op', kind: 'local' });
      expect((await cli(['login', '--local', '--tenant', 'acme', '--profile', 'reader'])).code).toBe(0);
      expect((await cli(['login', '--local', '--service', 'billing', '--profile', 'svc'])).code).toBe(0);
      const stored = JSON.parse(readFileSync(file, 'utf8'));
      expect(Object.keys(stored.profiles).sort()).toEqual(['default', 'op', 'reader', 'svc']);

      const token = await cli(['token']);
      expect(token.code).toBe(0);
      expect(token.stdout.trim().split('.')).toHaveLength(3);

      expect((await cli(['login', '--local'])).code).toBe(2);
      expect((await cli(['login', '--local', '--tenant', 'bad/tenant'])).code).toBe(2);
      expect((await cli(['login'])).code).toBe(2);
    },
    TIMEOUT,
  );

  it(
    'put, get, ls (every page), history, diff, restore and rm on the own tenant, in text and json',
    async () => {
      const created = await cli(['put', 'tenantconfig:limits', '{"max": 10, "burst": 2}', '--comment', 'first']);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/created tenantconfig:limits in your tenant: version 1/);

      const valueFile = join(tmp, 'limits.json');
      writeFileSync(valueFile, JSON.stringify({ max: 20, burst: 2, mode: 'strict' }));
      const updated = await cli(['put', 'tenantconfig:limits', '--file', valueFile, '--if-match', '1', '--output', 'json']);
      expect(updated.code).toBe(0);
      expect(updated.json()).toMatchObject({ key: 'tenantconfig:limits', version: 2, value: { max: 20, mode: 'strict' } });

      const got = await cli(['get', 'tenantconfig:limits']);
      expect(got.code).toBe(0);
      expect(got.stdout).toMatch(/^tenantconfig:limits {2}\(version 2, source tenant, .* by dev-acme-admin\)\n\{\n {2}"max": 20,\n {2}"burst": 2,/);
      const gotJson = await cli(['get', 'tenantconfig:limits', '-o', 'json']);
      expect(gotJson.json()).toMatchObject({ key: 'tenantconfig:limits', version: 2, source: 'tenant', value: { max: 20, burst: 2, mode: 'strict' } });

      const ls = await cli(['ls', '--prefix', 'tenantconfig:bulk/', '--output', 'json']);
      expect(ls.code).toBe(0);
      expect(ls.json().items).toHaveLength(120);
      const lsText = await cli(['ls', '--prefix', 'tenantconfig:lim']);
      expect(lsText.stdout).toMatch(/^tenantconfig:limits {2}v2 {2}tenant {2}\{"max":20,"burst":2,"mode":"strict"\}\n$/);
      expect((await cli(['ls', '--prefix', 'tenantconfig:none/'])).stdout).toMatch(/no keys in your tenant with prefix/);

      const history = await cli(['history', 'tenantconfig:limits', '-o', 'json']);
      expect(history.code).toBe(0);
      expect(history.json().items.map((h: any) => h.version)).toEqual([2, 1]);
      expect(history.json().items[1].comment).toBe('first');
      expect((await cli(['history', 'tenantconfig:limits'])).stdout).toMatch(/^v2 .*\nv1 .*"first"/);

      const diff = await cli(['diff', 'tenantconfig:limits', '1', '2']);
      expect(diff.code).toBe(0);
      expect(diff.stdout).toBe(
        ['--- tenantconfig:limits version 1', '+++ tenantconfig:limits version 2', '~ $.max: 10 → 20', '+ $.mode: "strict"', ''].join('\n'),
      );
      const diffJson = await cli(['diff', 'tenantconfig:limits', '1', '2', '-o', 'json']);
      expect(diffJson.json()).toEqual({
        key: 'tenantconfig:limits',
        from: 1,
        to: 2,
        changes: [
          { path: '$.max', op: 'change', from: 10, to: 20 },
          { path: '$.mode', op: 'add', to: 'strict' },
        ],
      });
      expect((await cli(['diff', 'tenantconfig:limits', '1', '9'])).code).toBe(3);
      expect((await cli(['diff', 'tenantconfig:limits', '1', 'x'])).code).toBe(2);

      const restored = await cli(['restore', 'tenantconfig:limits', '--version', '1']);
      expect(restored.code).toBe(0);
      expect(restored.stdout).toMatch(/restored tenantconfig:limits in your tenant to the value of version 1: now version 3/);
      expect((await cli(['get', 'tenantconfig:limits', '-o', 'json'])).json()).toMatchObject({ version: 3, value: { max: 10, burst: 2 } });
      const restoredJson = await cli(['restore', 'tenantconfig:limits', '--version', '2', '--if-match', '3', '-o', 'json']);
      expect(restoredJson.json()).toMatchObject({ version: 4, value: { max: 20 } });

      // A key in Parameter Store, with a slash in its name.
      expect((await cli(['put', 'paramconfig:db/pool', '{"size": 5}'])).code).toBe(0);
      expect((await cli(['get', 'paramconfig:db/pool', '-o', 'json'])).json().value).toEqual({ size: 5 });

      const rm = await cli(['rm', 'paramconfig:db/pool', '--if-match', '1']);
      expect(rm.code).toBe(0);
      expect(rm.stdout).toMatch(/deleted paramconfig:db\/pool from your tenant/);
      expect((await cli(['rm', 'tenantconfig:limits', '-o', 'json'])).json()).toEqual({ key: 'tenantconfig:limits', deleted: true });
    },
    TIMEOUT,
  );

  it(
    'exit codes: 3 not found, 4 conflict, 2 usage, 1 errors with the problem title and detail on stderr',
    async () => {
      const missing = await cli(['get', 'tenantconfig:nothing-here']);
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/^tenant-config: Configuration key not found \(404\)/);
      expect((await cli(['rm', 'tenantconfig:nothing-here'])).code).toBe(3);
      expect((await cli(['get', 'tenantconfig:nothing-here', '-o', 'json'])).code).toBe(3);

      expect((await cli(['put', 'tenantconfig:cas', '1'])).code).toBe(0);
      const stale = await cli(['put', 'tenantconfig:cas', '2', '--if-match', '7']);
      expect(stale.code).toBe(4);
      expect(stale.stderr).toMatch(/Precondition failed \(412\)/);
      expect((await cli(['put', 'tenantconfig:cas', '3', '--create'])).code).toBe(4);
      expect((await cli(['rm', 'tenantconfig:cas', '--if-match', '9'])).code).toBe(4);
      expect((await cli(['restore', 'tenantconfig:cas', '--version', '1', '--if-match', '9'])).code).toBe(4);
      expect((await cli(['restore', 'tenantconfig:cas', '--version', '42'])).code).toBe(3);

      const usage = [
        ['put', 'tenantconfig:x', 'not json'],
        ['put', 'tenantconfig:x'],
        ['get'],
        ['frobnicate'],
        ['get', 'no-tag'],
        ['restore', 'tenantconfig:cas'],
        ['--output', 'yaml', 'ls'],
        ['put', 'tenantconfig:x', '1', '--if-match', 'abc'],
        ['segments', 'get', 'plan', 'tenantconfig:x'],
        ['ls', '--tenant', 'not/a/tenant'],
      ];
      const results = await Promise.all(usage.map((args) => cli(args)));
      results.forEach((res, i) => {
        expect({ args: usage[i], code: res.code }).toEqual({ args: usage[i], code: 2 });
        expect(res.stderr).not.toBe('');
      });
      const help = await cli(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict/);
      expect(help.stdout).toMatch(/rollout\|rollouts +staged rollouts/);

      const reader = await cli(['--profile', 'reader', 'put', 'tenantconfig:x', '1']);
      expect(reader.code).toBe(1);
      expect(reader.stderr).toMatch(/^tenant-config: Forbidden \(403\): /);
      const badValue = await cli(['put', 'nosuchtag:x', '1']);
      expect(badValue.code).toBe(1);
      expect(badValue.stderr).toMatch(/Unknown tag \(400\)/);
      const badToken = await cli(['--token', 'not-a-jwt', 'ls']);
      expect(badToken.code).toBe(1);
      expect(badToken.stderr).toMatch(/\(401\)/);
      const noProfile = await cli(['--profile', 'nobody', 'ls']);
      expect(noProfile.code).toBe(1);
      expect(noProfile.stderr).toMatch(/no credentials for profile 'nobody'/);
      const unreachable = await cli(['--endpoint', 'http://127.0.0.1:1', 'ls']);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127.0.0.1:1/);
      const envToken = await cli(['ls', '--prefix', 'tenantconfig:cas'], {
        env: { TENANT_CONFIG_TOKEN: system.signer.signToken({ tenant: 'globex' }), TENANT_CONFIG_ENDPOINT: system.endpoints.http },
      });
      expect(envToken.code).toBe(0);
      expect(envToken.stdout).toMatch(/no keys/);
    },
    TIMEOUT,
  );

  it(
    'export and import: a diff, If-Match writes, refusing keys changed since the export unless --force',
    async () => {
      expect((await cli(['put', 'tenantconfig:exp/a', '{"n": 1}'])).code).toBe(0);
      expect((await cli(['put', 'tenantconfig:exp/b', '"b"'])).code).toBe(0);
      const exported = await cli(['export']);
      expect(exported.code).toBe(0);
      const file = JSON.parse(exported.stdout);
      expect(file).toMatchObject({ format: 'tenant-config-export/1', tenant: null });
      expect(file.items.find((i: any) => i.key === 'tenantconfig:exp/a')).toEqual({ key: 'tenantconfig:exp/a', value: { n: 1 }, version: 1 });

      // Edit the export: change a, add c.
      file.items = file.items.filter((i: any) => i.key.startsWith('tenantconfig:exp/'));
      file.items[0].value = { n: 2 };
      file.items.push({ key: 'tenantconfig:exp/c', value: true });
      const edited = join(tmp, 'export.json');
      writeFileSync(edited, JSON.stringify(file));

      const dry = await cli(['import', edited, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toBe(
        [
          '~ tenantconfig:exp/a (update)',
          '    ~ $.n: 1 → 2',
          '+ tenantconfig:exp/c (create) = true',
          '1 to create, 1 to update, 1 unchanged, 0 in conflict',
          '',
        ].join('\n'),
      );
      expect((await cli(['get', 'tenantconfig:exp/c'])).code).toBe(3);

      // Someone changes b after the export: the import refuses and writes nothing.
      expect((await cli(['put', 'tenantconfig:exp/b', '"changed"'])).code).toBe(0);
      file.items[1].value = 'mine';
      writeFileSync(edited, JSON.stringify(file));
      const refused = await cli(['import', edited]);
      expect(refused.code).toBe(4);
      expect(refused.stdout).toMatch(/! tenantconfig:exp\/b \(conflict: exported at version 1, now version 2; --force to overwrite\)/);
      expect(refused.stderr).toMatch(/1 key\(s\) changed since the export; nothing was written/);
      expect((await cli(['get', 'tenantconfig:exp/a', '-o', 'json'])).json().value).toEqual({ n: 1 });

      const forced = await cli(['import', edited, '--force', '-o', 'json']);
      expect(forced.code).toBe(0);
      expect(forced.json()).toMatchObject({ dryRun: false, applied: ['tenantconfig:exp/a', 'tenantconfig:exp/b', 'tenantconfig:exp/c'] });
      expect((await cli(['get', 'tenantconfig:exp/b', '-o', 'json'])).json()).toMatchObject({ value: 'mine', version: 3 });
      expect((await cli(['get', 'tenantconfig:exp/c', '-o', 'json'])).json().value).toBe(true);

      // Importing the same file again: everything unchanged.
      const again = await cli(['import', edited, '--force']);
      expect(again.stdout).toMatch(/0 to create, 0 to update, 3 unchanged, 0 in conflict/);
      expect((await cli(['import', join(tmp, 'missing.json')])).code).toBe(1);
      writeFileSync(join(tmp, 'bad.json'), '{"items": []}');
      expect((await cli(['import', join(tmp, 'bad.json')])).code).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'operators: defaults, segments, the registry with offboarding, and --tenant on the config commands',
    async () => {
      expect((await op(['defaults', 'put', 'tenantconfig:theme', '"light"'])).code).toBe(0);
      expect((await op(['defaults', 'put', 'tenantconfig:theme', '"dark"', '--if-match', '1'])).code).toBe(0);
      expect((await op(['defaults', 'get', 'tenantconfig:theme', '-o', 'json'])).json()).toMatchObject({ value: 'dark', version: 2, source: 'platform' });
      expect((await op(['defaults', 'ls'])).stdout).toMatch(/tenantconfig:theme {2}v2 {2}platform {2}"dark"/);
      expect((await op(['defaults', 'history', 'tenantconfig:theme', '-o', 'json'])).json().items).toHaveLength(2);
      expect((await op(['defaults', 'diff', 'tenantconfig:theme', '1', '2'])).stdout).toMatch(/~ \$: "light" → "dark"/);
      expect((await op(['defaults', 'restore', 'tenantconfig:theme', '--version', '1'])).stdout).toMatch(
        /restored tenantconfig:theme in platform defaults .* now version 3/,
      );
      // Every principal reads a default; a tenant admin does not write one.
      expect((await cli(['get', 'tenantconfig:theme', '-o', 'json'])).json()).toMatchObject({ value: 'light', source: 'platform' });
      expect((await cli(['get', 'tenantconfig:theme', '--layer', 'tenant'])).code).toBe(3);
      expect((await cli(['defaults', 'put', 'tenantconfig:theme', '"x"'])).code).toBe(1);

      const registered = await op(['tenants', 'put', 'acme', '--attr', 'plan=gold', '--attr', 'region=eu']);
      expect(registered.code).toBe(0);
      expect(registered.stdout).toMatch(/registered acme {2}plan=gold region=eu {2}\(version 1\)/);
      expect((await op(['tenants', 'put', 'acme', '--attr', 'plan=gold', '--create'])).code).toBe(4);
      expect((await op(['tenants', 'put', 'acme', '--attr', 'plan=platinum'])).code).toBe(1);
      expect((await op(['tenants', 'put', 'acme', '--attr', 'plan'])).code).toBe(2);
      expect((await op(['tenants', 'get', 'acme', '-o', 'json'])).json()).toMatchObject({ tenantId: 'acme', attributes: { plan: 'gold', region: 'eu' } });
      expect((await op(['tenants', 'get', 'nobody'])).code).toBe(3);
      expect((await op(['tenants', 'put', 'globex', '--attr', 'plan=free'])).code).toBe(0);
      expect((await op(['tenants', 'ls', '-o', 'json'])).json().items.map((t: any) => t.tenantId)).toEqual(['acme', 'globex']);
      expect((await op(['tenants', 'ls'])).stdout).toMatch(/^acme {2}plan=gold region=eu {2}\(version 1\)\nglobex {2}plan=free/);
      expect((await cli(['tenants', 'ls'])).code).toBe(1);

      expect((await op(['segments', 'put', 'plan=gold', 'tenantconfig:theme', '"gold"'])).code).toBe(0);
      expect((await op(['segments', 'get', 'plan=gold', 'tenantconfig:theme', '-o', 'json'])).json()).toMatchObject({
        value: 'gold',
        source: 'segment:plan=gold',
      });
      expect((await op(['segments', 'ls', 'plan=gold'])).stdout).toMatch(/tenantconfig:theme {2}v1 {2}segment:plan=gold/);
      expect((await op(['segments', 'history', 'plan=gold', 'tenantconfig:theme', '-o', 'json'])).json().items).toHaveLength(1);
      expect((await cli(['get', 'tenantconfig:theme', '-o', 'json'])).json()).toMatchObject({ value: 'gold', source: 'segment:plan=gold' });
      expect((await op(['segments', 'get', 'plan=nope', 'tenantconfig:theme'])).code).toBe(1);
      expect((await op(['segments', 'rm', 'plan=gold', 'tenantconfig:theme'])).code).toBe(0);
      expect((await op(['segments', 'get', 'plan=gold', 'tenantconfig:theme'])).code).toBe(3);
      expect((await op(['defaults', 'rm', 'tenantconfig:theme', '-o', 'json'])).json()).toEqual({ key: 'tenantconfig:theme', deleted: true });

      // The /v1/tenants/{t}/... twins.
      expect((await op(['put', 'tenantconfig:ops', '{"by": "alice"}', '--tenant', 'globex'])).stdout).toMatch(
        /created tenantconfig:ops in tenant globex: version 1/,
      );
      expect((await op(['get', 'tenantconfig:ops', '--tenant', 'globex', '-o', 'json'])).json()).toMatchObject({ updatedBy: 'alice', value: { by: 'alice' } });
      expect((await op(['ls', '--tenant', 'globex', '-o', 'json'])).json().items.map((i: any) => i.key)).toEqual(['tenantconfig:ops']);
      expect((await op(['history', 'tenantconfig:ops', '--tenant', 'globex', '-o', 'json'])).json().items).toHaveLength(1);
      expect((await op(['put', 'tenantconfig:ops', '2', '--tenant', 'globex'])).code).toBe(0);
      expect((await op(['diff', 'tenantconfig:ops', '1', '2', '--tenant', 'globex'])).stdout).toMatch(/~ \$: \{"by":"alice"\} → 2/);
      expect((await op(['restore', 'tenantconfig:ops', '--version', '1', '--tenant', 'globex'])).code).toBe(0);
      expect((await cli(['--profile', 'svc', 'get', 'tenantconfig:ops', '--tenant', 'globex', '-o', 'json'])).json().value).toEqual({ by: 'alice' });
      expect((await cli(['get', 'tenantconfig:ops', '--tenant', 'globex'])).code).toBe(1); // acme's admin, another tenant: 403
      const exported = await op(['export', '--tenant', 'globex']);
      expect(JSON.parse(exported.stdout)).toMatchObject({ tenant: 'globex', items: [{ key: 'tenantconfig:ops', version: 3 }] });
      expect((await op(['rm', 'tenantconfig:ops', '--tenant', 'globex'])).code).toBe(0);
      const exportFile = join(tmp, 'globex.json');
      writeFileSync(exportFile, exported.stdout);
      // The file names its tenant: import goes there; the key was deleted since the export, so it is a conflict.
      expect((await op(['import', exportFile])).code).toBe(4);
      expect((await op(['import', exportFile, '--force'])).code).toBe(0);
      expect((await op(['get', 'tenantconfig:ops', '--tenant', 'globex', '-o', 'json'])).json().value).toEqual({ by: 'alice' });

      // Offboarding: every key removed, progress on stderr while the API answers 202.
      const off = await op(['tenants', 'rm', 'globex', '-o', 'json']);
      expect(off.code).toBe(0);
      expect(off.json()).toMatchObject({ tenantId: 'globex', state: 'complete', deletedKeys: 1 });
      expect((await op(['get', 'tenantconfig:ops', '--tenant', 'globex'])).code).toBe(3);
      expect((await op(['tenants', 'rm', 'globex'])).stdout).toMatch(/offboarded globex/);
    },
    TIMEOUT,
  );

  it(
    'rollout start, ls, get, pause, resume, then an ALARM rolls it back; a finished rollout refuses (exit 4), an unknown one is 3, a reader 1',
    async () => {
      const setAlarm = (name: string, state: string) =>
        fetch(`${system.endpoints.http}/local/alarms/${name}`, {
          method: 'PUT',
          body: JSON.stringify({ state }),
          headers: { 'content-type': 'application/json' },
        });
      const until = async (id: string, state: string) => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const res = await op(['rollout', 'get', id, '--output', 'json']);
          if (res.json().state === state || Date.now() > deadline) return res.json();
          await new Promise((r) => setTimeout(r, 200));
        }
      };

      const started = await op([
        'rollout',
        'start',
        'tenantconfig:cli-rollout',
        '{"flow":"new"}',
        '--layer',
        'platform',
        '--waves',
        '10,100',
        '--bake',
        '3600',
        '--alarm',
        'cli-errors',
        '--output',
        'json',
      ]);
      expect(started.code).toBe(0);
      const id = started.json().id as string;
      expect(started.json()).toMatchObject({
        key: 'tenantconfig:cli-rollout',
        layer: 'platform',
        state: 'in_progress',
        wave: 0,
        percent: 10,
        alarm: 'cli-errors',
      });

      const text = await op(['rollout', 'get', id]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^${id}  tenantconfig:cli-rollout in platform: in progress, wave 1/2 \\(10%\\)`));
      const ls = await op(['rollout', 'ls', '--output', 'json']);
      expect(ls.code).toBe(0);
      expect(ls.json().items[0]).toMatchObject({ id, state: 'in_progress' });
      expect((await op(['rollout', 'ls'])).stdout).toMatch(
        new RegExp(`${id}  tenantconfig:cli-rollout  platform  in_progress  wave 1/2 \\(10%\\)  alarm cli-errors`),
      );

      expect((await op(['rollout', 'pause', id, '--output', 'json'])).json()).toMatchObject({ state: 'paused' });
      expect((await op(['rollout', 'resume', id, '--output', 'json'])).json()).toMatchObject({ state: 'in_progress' });

      expect((await setAlarm('cli-errors', 'ALARM')).status).toBe(200);
      const rolledBack = await until(id, 'rolled_back');
      expect(rolledBack).toMatchObject({ state: 'rolled_back', percent: 0 });
      expect(rolledBack.events.map((e: { action: string; by: string }) => `${e.action} by ${e.by}`)).toEqual([
        'started by alice',
        'paused by alice',
        'resumed by alice',
        'rolled_back by alarm:cli-errors',
      ]);

      const refused = await op(['rollout', 'pause', id]);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/\(409\)/);
      expect((await op(['rollout', 'rollback', id])).code).toBe(0); // already rolled back: answered as it is

      // A segment default with bake 0 runs through its waves on the local timer.
      const fast = await op([
        'rollout',
        'start',
        'tenantconfig:cli-fast',
        '1',
        '--layer',
        'segment:plan=gold',
        '--waves',
        '50,100',
        '--bake',
        '0',
        '--output',
        'json',
      ]);
      expect(fast.code).toBe(0);
      expect(await until(fast.json().id, 'complete')).toMatchObject({ state: 'complete', percent: 100, layer: 'segment:plan=gold' });

      expect((await op(['rollout', 'get', 'r-000000000-00000000'])).code).toBe(3);
      expect((await op(['rollout', 'start', 'tenantconfig:x', '1', '--layer', 'platform', '--waves', '10,50'])).code).toBe(1); // 400: the last wave must be 100
      const reader = await cli(['--profile', 'reader', 'rollout', 'ls']);
      expect(reader.code).toBe(1);
      expect(reader.stderr).toMatch(/Forbidden \(403\)/);
      await setAlarm('cli-errors', 'OK');
    },
    TIMEOUT,
  );

  it(
    'flag evaluate: a platform default with a rule on tenant.plan, for a named tenant and for the own tenant; a missing flag exits 3',
    async () => {
      const checkout = {
        enabled: true,
        variants: [
          { name: 'beta', value: 'beta-checkout' },
          { name: 'premium', value: 'premium-checkout' },
          { name: 'standard', value: 'standard-checkout' },
        ],
        defaultVariant: 'standard',
        rules: [
          {
            when: [
              { attribute: 'tenant.plan', op: 'in', values: ['gold'] },
              { attribute: 'country', op: 'in', values: ['FR'] },
            ],
            serve: { variant: 'beta' },
          },
          { when: [{ attribute: 'tenant.plan', op: 'in', values: ['gold'] }], serve: { variant: 'premium' } },
        ],
      };
      expect((await op(['defaults', 'put', 'flags:checkout', JSON.stringify(checkout)])).code).toBe(0);
      expect((await op(['tenants', 'put', 'acme', '--attr', 'plan=gold'])).code).toBe(0);

      const named = await op(['flag', 'evaluate', 'checkout', '--tenant', 'acme', '--targeting-key', 'u1']);
      expect({ code: named.code, stderr: named.stderr }).toEqual({ code: 0, stderr: '' });
      expect(named.stdout).toBe('value    "premium-checkout"\nvariant  premium\nreason   TARGETING_MATCH\n');
      const svc = await cli(['--profile', 'svc', 'flag', 'evaluate', 'checkout', '--tenant', 'acme', '--context', 'country=FR', '-o', 'json']);
      expect(svc.json()).toEqual({ value: 'beta-checkout', variant: 'beta', reason: 'TARGETING_MATCH' });

      // acme's own token, no --tenant: its own tenant, its registry attributes.
      const own = await cli(['flag', 'evaluate', 'checkout', '--targeting-key', 'u1', '--output', 'json']);
      expect(own.code).toBe(0);
      expect(own.json()).toEqual({ value: 'premium-checkout', variant: 'premium', reason: 'TARGETING_MATCH' });
      expect((await cli(['flag', 'evaluate', 'flags:checkout', '--context', 'country=FR'])).stdout).toMatch(/^value {4}"beta-checkout"\nvariant {2}beta\n/);

      // A tenant not on the gold plan falls through to the default variant.
      expect((await op(['tenants', 'put', 'initech', '--attr', 'plan=free'])).code).toBe(0);
      expect((await op(['flag', 'evaluate', 'checkout', '--tenant', 'initech', '-o', 'json'])).json()).toEqual({
        value: 'standard-checkout',
        variant: 'standard',
        reason: 'DEFAULT',
      });

      const missing = await cli(['flag', 'evaluate', 'no-such-flag']);
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/\(404\).*FLAG_NOT_FOUND/);
      expect((await op(['flag', 'evaluate', 'no-such-flag', '--tenant', 'acme', '-o', 'json'])).code).toBe(3);
      expect((await cli(['flag', 'evaluate', 'checkout', '--context', 'tenant.plan=free'])).code).toBe(2);
      expect((await cli(['flag', 'evaluate', 'checkout', '--context', 'country'])).code).toBe(2);
      const operatorOwn = await op(['flag', 'evaluate', 'checkout']); // an operator has no tenant of its own: 403
      expect(operatorOwn.code).toBe(1);
      expect(operatorOwn.stderr).toMatch(/Forbidden \(403\)/);
      expect((await cli(['flag', 'evaluate', 'checkout', '--tenant', 'initech'])).code).toBe(1); // acme's admin, another tenant: 403

      expect((await op(['defaults', 'rm', 'flags:checkout'])).code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'logout forgets a profile, then the every profile',
    async () => {
      expect((await cli(['logout', '--profile', 'reader'])).stdout).toMatch(/logged out of profile reader/);
      expect((await cli(['--profile', 'reader', 'ls'])).code).toBe(1);
      expect((await cli(['logout', '--profile', 'reader', '-o', 'json'])).json()).toEqual({ profile: 'reader', removed: false });
      expect((await cli(['logout', '--all'])).stdout).toMatch(/logged out of every profile/);
      expect((await cli(['ls'])).code).toBe(1);
    },
    TIMEOUT,
  );
});
