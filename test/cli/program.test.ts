/**
 * Argument parsing of `tenant-config` in process, against a fake API that records each request:
 * which route and headers every command sends, what it prints, and the exit code of usage errors.
 */
import { CliError } from '../../packages/cli/src/errors';
import { buildProgram, run, type Deps } from '../../packages/cli/src/program';

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

function harness(reply: (call: Call) => { status?: number; body?: unknown; headers?: Record<string, string> } = () => ({ body: {} })) {
  const calls: Call[] = [];
  const globals: unknown[] = [];
  let stdout = '';
  let stderr = '';
  const deps: Deps = {
    io: { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
    env: {},
    api: (options) => ({
      ...(globals.push(options) && {}),
      async request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; accept?: readonly number[] } = {}) {
        const call = { method, path, body: options.body, headers: options.headers };
        calls.push(call);
        const r = reply(call);
        return { status: r.status ?? 200, headers: new Headers(r.headers ?? {}), body: r.body as any };
      },
      async listAll(path: string, query: Record<string, string | undefined> = {}) {
        calls.push({ method: 'LIST', path, body: query });
        const body = reply({ method: 'LIST', path }).body as any;
        return Array.isArray(body) ? body : (body?.items ?? []);
      },
    }),
  };
  return {
    calls,
    globals,
    out: () => stdout,
    err: () => stderr,
    run: (...argv: string[]) => run(argv, deps),
  };
}

describe('tenant-config argument parsing', () => {
  it('maps each item command of each layer to its route', async () => {
    const h = harness((c) => ({ status: c.method === 'PUT' ? 201 : 200, body: { key: 'tenantconfig:a/b', version: 1, value: 1, items: [] } }));
    const cases: Array<[string[], Omit<Call, 'body' | 'headers'>]> = [
      [['get', 'tenantconfig:a/b'], { method: 'GET', path: '/v1/config/tenantconfig%3Aa/b' }],
      [['get', 'tenantconfig:a/b', '--layer', 'tenant'], { method: 'GET', path: '/v1/config/tenantconfig%3Aa/b?layer=tenant' }],
      [['get', 'tenantconfig:a/b', '--tenant', 'acme'], { method: 'GET', path: '/v1/tenants/acme/config/tenantconfig%3Aa/b' }],
      [['put', 'tenantconfig:a/b', '1'], { method: 'PUT', path: '/v1/config/tenantconfig%3Aa/b' }],
      [['rm', 'tenantconfig:a/b', '--tenant', 'acme'], { method: 'DELETE', path: '/v1/tenants/acme/config/tenantconfig%3Aa/b' }],
      [['history', 'tenantconfig:a/b'], { method: 'GET', path: '/v1/history/tenantconfig%3Aa/b?limit=100' }],
      [['history', 'tenantconfig:a/b', '--tenant', 'acme'], { method: 'GET', path: '/v1/tenants/acme/history/tenantconfig%3Aa/b?limit=100' }],
      [['restore', 'tenantconfig:a/b', '--version', '3'], { method: 'POST', path: '/v1/config/tenantconfig%3Aa/b/restore' }],
      [['defaults', 'get', 'tenantconfig:a/b'], { method: 'GET', path: '/v1/defaults/tenantconfig%3Aa/b' }],
      [['defaults', 'history', 'tenantconfig:a/b'], { method: 'GET', path: '/v1/history/defaults/tenantconfig%3Aa/b?limit=100' }],
      [['defaults', 'restore', 'tenantconfig:a/b', '--version', '1'], { method: 'POST', path: '/v1/defaults/tenantconfig%3Aa/b/restore' }],
      [['segments', 'put', 'plan=gold', 'tenantconfig:a/b', '2'], { method: 'PUT', path: '/v1/segments/plan%3Dgold/tenantconfig%3Aa/b' }],
      [['segments', 'history', 'plan=gold', 'tenantconfig:a/b'], { method: 'GET', path: '/v1/history/segments/plan%3Dgold/tenantconfig%3Aa/b?limit=100' }],
      [['ls', '--prefix', 'paramconfig:db/'], { method: 'LIST', path: '/v1/config' }],
      [['ls', '--tenant', 'acme'], { method: 'LIST', path: '/v1/tenants/acme/config' }],
      [['defaults', 'ls'], { method: 'LIST', path: '/v1/defaults' }],
      [['segments', 'ls', 'region=eu'], { method: 'LIST', path: '/v1/segments/region%3Deu' }],
      [['tenants', 'get', 'acme'], { method: 'GET', path: '/v1/tenants/acme' }],
      [['tenants', 'ls'], { method: 'LIST', path: '/v1/tenants' }],
    ];
    for (const [argv, expected] of cases) {
      h.calls.length = 0;
      expect({ argv, code: await h.run(...argv) }).toEqual({ argv, code: 0 });
      expect(h.calls[0]).toMatchObject(expected);
    }
  });

  it('sends the value, comment and conditional headers', async () => {
    const h = harness(() => ({ status: 200, body: { key: 'k', version: 2, value: 1, tenantId: 'acme', attributes: {} } }));
    await h.run('put', 'tenantconfig:x', '{"a": [1, 2]}', '--if-match', '4', '--comment', 'why');
    expect(h.calls[0]).toEqual({
      method: 'PUT',
      path: '/v1/config/tenantconfig%3Ax',
      body: { value: { a: [1, 2] }, comment: 'why' },
      headers: { 'if-match': '"4"' },
    });
    await h.run('put', 'tenantconfig:x', '"s"', '--create');
    expect(h.calls[1].headers).toEqual({ 'if-none-match': '*' });
    await h.run('restore', 'tenantconfig:x', '--version', '2', '--if-match', '5');
    expect(h.calls[2]).toMatchObject({ body: { version: 2 }, headers: { 'if-match': '"5"' } });
    await h.run('tenants', 'put', 'acme', '--attr', 'plan=gold', '--attr', 'owner=a=b');
    expect(h.calls[3]).toMatchObject({ method: 'PUT', path: '/v1/tenants/acme', body: { attributes: { plan: 'gold', owner: 'a=b' } } });
    expect(await h.run('ls', '--prefix', 'tenantconfig:', '--output', 'json')).toBe(0);
    expect(h.calls[4]).toEqual({ method: 'LIST', path: '/v1/config', body: { prefix: 'tenantconfig:' } });
  });

  it('global options go before or after the command', async () => {
    const h = harness(() => ({ body: { key: 'tenantconfig:x', version: 1, value: 1 } }));
    expect(await h.run('-o', 'json', 'get', 'tenantconfig:x')).toBe(0);
    expect(JSON.parse(h.out())).toEqual({ key: 'tenantconfig:x', version: 1, value: 1 });
    expect(await h.run('get', 'tenantconfig:x', '--output', 'json')).toBe(0);
    expect(await h.run('--endpoint', 'http://x', 'tenants', 'ls', '--token', 't', '--profile', 'p', '--grpc', 'h:1')).toBe(0);
    expect(h.globals[h.globals.length - 1]).toMatchObject({ endpoint: 'http://x', token: 't', profile: 'p', grpc: 'h:1', output: 'text' });
    expect(buildProgram().commands.map((c) => c.name())).toEqual(
      expect.arrayContaining([
        'get',
        'put',
        'rm',
        'ls',
        'history',
        'diff',
        'restore',
        'watch',
        'export',
        'import',
        'defaults',
        'segments',
        'tenants',
        'flag',
        'login',
        'logout',
      ]),
    );
  });

  it.each([
    [['put', 'tenantconfig:x', '{oops'], /is not JSON/],
    [['put', 'tenantconfig:x', '1', '--file', 'f.json'], /not both/],
    [['put', 'tenantconfig:x', '1', '--if-match', '1', '--create'], /do not go together/],
    [['put', 'tenantconfig:x', '1', '--if-match', '0'], /positive integer/],
    [['restore', 'tenantconfig:x'], /required option '--version/],
    [['restore', 'tenantconfig:x', '--version', '-1'], /./],
    [['get', 'plain'], /not a key/],
    [['get', 'tenantconfig:x', '--tenant', '-bad'], /not a tenant id/],
    [['segments', 'ls', 'gold'], /not a segment/],
    [['tenants', 'put', 'acme', '--attr', '=x'], /name=value/],
    [['diff', 'tenantconfig:x', '1'], /missing required argument/],
    [['diff', 'tenantconfig:x', 'a', '2'], /V1 must be a positive integer/],
    [['nonsense'], /unknown command/],
    [['get', 'tenantconfig:x', '--nope'], /unknown option/],
    [['-o', 'xml', 'ls'], /Allowed choices are text, json/],
    [['watch', '--tenant', 'a', '--all-tenants'], /do not go together/],
  ])('exits 2 for %j', async (argv, message) => {
    const h = harness();
    expect(await h.run(...argv)).toBe(2);
    expect(h.err()).toMatch(message);
    expect(h.calls).toEqual([]);
  });

  it('maps API errors to exit codes and prints them on stderr', async () => {
    for (const [exit, status] of [
      [3, 404],
      [4, 412],
      [4, 409],
      [1, 403],
    ] as const) {
      const h = harness(() => {
        throw new CliError(`Some title (${status}): detail`, exit);
      });
      expect(await h.run('get', 'tenantconfig:x')).toBe(exit);
      expect(h.err()).toBe(`tenant-config: Some title (${status}): detail\n`);
    }
  });

  it('--help and help exit 0 and name the exit codes', async () => {
    const h = harness();
    expect(await h.run('--help')).toBe(0);
    expect(h.out()).toMatch(/Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict/);
    expect(await h.run('segments', '--help')).toBe(0);
    expect(h.out()).toMatch(/Usage: tenant-config segments/);
  });

  it('offboarding repeats the DELETE while the API answers 202, printing progress', async () => {
    let round = 0;
    const h = harness(() => {
      round += 1;
      return round < 3
        ? { status: 202, body: { tenantId: 'acme', state: 'in_progress', deletedKeys: round * 10 }, headers: { 'retry-after': '0' } }
        : { status: 200, body: { tenantId: 'acme', state: 'complete', deletedKeys: 25 } };
    });
    expect(await h.run('tenants', 'rm', 'acme')).toBe(0);
    expect(h.calls.map((c) => `${c.method} ${c.path}`)).toEqual(Array(3).fill('DELETE /v1/tenants/acme'));
    expect(h.err()).toBe('offboarding acme: in_progress, 10 keys deleted so far (round 1)\noffboarding acme: in_progress, 20 keys deleted so far (round 2)\n');
    expect(h.out()).toBe('offboarded acme: 25 keys deleted\n');
  });

  describe('rollout', () => {
    const rollout = {
      id: 'r-00mb2x1a0-1a2b3c4d',
      key: 'tenantconfig:checkout',
      layer: 'segment:plan=gold',
      value: { flow: 'new' },
      previous: { value: { flow: 'old' } },
      state: 'in_progress',
      wave: 1,
      percent: 10,
      waves: [1, 10, 100],
      bakeSeconds: 300,
      alarm: 'checkout-errors',
      events: [
        { at: '2026-12-01T10:00:00.000Z', by: 'alice', action: 'started', wave: 0, percent: 1 },
        { at: '2026-12-01T10:05:00.000Z', by: 'rollout', action: 'wave', wave: 1, percent: 10 },
      ],
    };

    it('start sends the spec as the API takes it, leaving unset waves and bake to the API', async () => {
      const h = harness(() => ({ status: 201, body: rollout }));
      const argv = ['rollout', 'start', 'tenantconfig:checkout', '{"flow":"new"}', '--layer', 'segment:plan=gold'];
      expect(await h.run(...argv, '--waves', '1,10,100', '--bake', '0', '--alarm', 'checkout-errors')).toBe(0);
      expect(await h.run(...argv)).toBe(0);
      expect(await h.run('rollout', 'start', 'tenantconfig:checkout', '--file', '/dev/null', '--layer', 'platform')).toBe(2); // not JSON
      expect(h.calls).toEqual([
        {
          method: 'POST',
          path: '/v1/rollouts',
          body: {
            key: 'tenantconfig:checkout',
            layer: 'segment:plan=gold',
            value: { flow: 'new' },
            waves: [1, 10, 100],
            bakeSeconds: 0,
            alarm: 'checkout-errors',
          },
          headers: undefined,
        },
        {
          method: 'POST',
          path: '/v1/rollouts',
          body: { key: 'tenantconfig:checkout', layer: 'segment:plan=gold', value: { flow: 'new' } },
          headers: undefined,
        },
      ]);
      expect(h.out()).toMatch(/^started r-00mb2x1a0-1a2b3c4d {2}tenantconfig:checkout in segment:plan=gold: in progress, wave 2\/3 \(10%\)/);
      expect(h.out()).toMatch(/rolled back when alarm checkout-errors is in ALARM/);
    });

    it.each([
      [['--layer', 'tenant'], /--layer must be platform or segment/],
      [['--layer', 'segment:gold'], /not a segment/],
      [['--layer', 'platform', '--waves', '1;100'], /--waves must be percentages/],
      [['--layer', 'platform', '--bake', '-1'], /--bake must be a whole number/],
      [[], /--layer/],
    ])('start %j is a usage error (exit 2), nothing sent', async (extra, message) => {
      const h = harness();
      expect(await h.run('rollout', 'start', 'tenantconfig:checkout', '1', ...(extra as string[]))).toBe(2);
      expect(h.calls).toEqual([]);
      expect(h.err()).toMatch(message);
    });

    it('ls, get and the commands map to their routes; --output json prints the API body', async () => {
      const h = harness((c) => ({ body: c.method === 'LIST' ? [rollout] : rollout }));
      for (const argv of [['ls'], ['get', rollout.id], ['pause', rollout.id], ['resume', rollout.id], ['rollback', rollout.id]]) {
        expect(await h.run('rollout', ...argv)).toBe(0);
      }
      expect(h.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
        'LIST /v1/rollouts',
        `GET /v1/rollouts/${rollout.id}`,
        `POST /v1/rollouts/${rollout.id}/pause`,
        `POST /v1/rollouts/${rollout.id}/resume`,
        `POST /v1/rollouts/${rollout.id}/rollback`,
      ]);
      expect(h.out()).toMatch(
        /r-00mb2x1a0-1a2b3c4d {2}tenantconfig:checkout {2}segment:plan=gold {2}in_progress {2}wave 2\/3 \(10%\) {2}alarm checkout-errors\n/,
      );
      expect(h.out()).toMatch(/2026-12-01T10:05:00.000Z {2}wave +by rollout {2}wave 2 \(10%\)/);
      expect(h.out()).toMatch(/waves 1%, 10%, 100%, bake 300s/);

      const j = harness(() => ({ body: rollout }));
      expect(await j.run('rollouts', 'get', rollout.id, '--output', 'json')).toBe(0);
      expect(JSON.parse(j.out())).toEqual(rollout);
    });

    it('a command a finished rollout refuses (409) exits 4', async () => {
      const h = harness(() => {
        throw new CliError('Conflict (409): rollout is rolled back: it cannot be paused', 4);
      });
      expect(await h.run('rollout', 'pause', rollout.id)).toBe(4);
      expect(h.err()).toBe('tenant-config: Conflict (409): rollout is rolled back: it cannot be paused\n');
    });
  });
  describe('flag evaluate', () => {
    const answer = { value: 'premium-checkout', variant: 'premium', reason: 'TARGETING_MATCH' };

    it('maps to GET /v1/flags/{name}/evaluate or the tenant twin, the context as query parameters', async () => {
      const h = harness(() => ({ body: answer }));
      const cases: Array<[string[], string]> = [
        [['checkout'], '/v1/flags/checkout/evaluate'],
        [['flags:checkout'], '/v1/flags/checkout/evaluate'],
        [['checkout', '--targeting-key', 'u1'], '/v1/flags/checkout/evaluate?targetingKey=u1'],
        [['checkout', '--tenant', 'acme', '--targeting-key', 'u1'], '/v1/tenants/acme/flags/checkout/evaluate?targetingKey=u1'],
        [
          ['checkout', '--context', 'country=FR', '--targeting-key', 'user 1&2', '--context', 'app.version=3', '--context', 'note=a=b', '--context', 'empty='],
          '/v1/flags/checkout/evaluate?targetingKey=user%201%262&country=FR&app.version=3&note=a%3Db&empty=',
        ],
        [['ui/new-nav'], '/v1/flags/ui/new-nav/evaluate'],
      ];
      for (const [args, path] of cases) {
        h.calls.length = 0;
        expect({ args, code: await h.run('flag', 'evaluate', ...args) }).toEqual({ args, code: 0 });
        expect(h.calls).toEqual([{ method: 'GET', path, body: undefined, headers: undefined }]);
      }
      expect(await h.run('flags', 'evaluate', 'checkout')).toBe(0);
    });

    it('prints value, variant and reason, the error code and message when there are some; --output json the API body', async () => {
      const h = harness(() => ({ body: answer }));
      expect(await h.run('flag', 'evaluate', 'checkout')).toBe(0);
      expect(h.out()).toBe('value    "premium-checkout"\nvariant  premium\nreason   TARGETING_MATCH\n');

      const error = { reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING', errorMessage: 'a split needs a targeting key' };
      const e = harness(() => ({ body: error }));
      expect(await e.run('flag', 'evaluate', 'checkout')).toBe(0);
      expect(e.out()).toBe(
        "value         (none: the caller's default)\nreason        ERROR\nerrorCode     TARGETING_KEY_MISSING\nerrorMessage  a split needs a targeting key\n",
      );

      const j = harness(() => ({ body: { value: { limit: 3 }, variant: 'b', reason: 'SPLIT' } }));
      expect(await j.run('flag', 'evaluate', 'checkout', '-o', 'json')).toBe(0);
      expect(JSON.parse(j.out())).toEqual({ value: { limit: 3 }, variant: 'b', reason: 'SPLIT' });
    });

    it('a flag no layer holds (404 FLAG_NOT_FOUND) exits 3', async () => {
      const h = harness(() => {
        throw new CliError("Configuration key not found (404): flag 'nope' does not exist (FLAG_NOT_FOUND)", 3);
      });
      expect(await h.run('flag', 'evaluate', 'nope')).toBe(3);
      expect(h.err()).toMatch(/FLAG_NOT_FOUND/);
    });

    it.each([
      ['a pair without =', ['--context', 'country'], /--context must be name=value/],
      ['an empty name', ['--context', '=FR'], /--context must be name=value/],
      ['a name starting with a digit', ['--context', '1st=x'], /not an attribute name/],
      ['an empty dotted word', ['--context', 'a..b=x'], /not an attribute name/],
      ['a name over 64 characters', ['--context', `${'a'.repeat(65)}=x`], /not an attribute name/],
      ['targetingKey as context', ['--context', 'targetingKey=u1'], /use --targeting-key/],
      ['tenant', ['--context', 'tenant=acme'], /tenant registry/],
      ['tenant.plan', ['--context', 'tenant.plan=gold'], /tenant registry/],
      ['a name twice', ['--context', 'a=1', '--context', 'a=2'], /given twice/],
      ['a value over 256 characters', ['--context', `a=${'x'.repeat(257)}`], /longer than 256/],
      ['a targeting key over 256 characters', ['--targeting-key', 'x'.repeat(257)], /--targeting-key is longer than 256/],
      ['33 attributes', ['--targeting-key', 'u', ...Array.from({ length: 32 }, (_, i) => ['--context', `a${i}=1`]).flat()], /at most 32 context attributes/],
      ['a bad tenant id', ['--tenant', 'not/a/tenant'], /not a tenant id/],
    ])('%s is a usage error (exit 2), nothing sent', async (_label, extra, message) => {
      const h = harness();
      expect(await h.run('flag', 'evaluate', 'checkout', ...(extra as string[]))).toBe(2);
      expect(h.err()).toMatch(message);
      expect(h.calls).toEqual([]);
    });

    it.each([[''], ['flags:'], ['/x'], ['a b']])('a flag name %j is a usage error', async (name) => {
      const h = harness();
      expect(await h.run('flag', 'evaluate', name)).toBe(2);
      expect(h.err()).toMatch(/not a flag name/);
      expect(h.calls).toEqual([]);
    });

    it('a missing name is a usage error', async () => {
      const h = harness();
      expect(await h.run('flag', 'evaluate')).toBe(2);
      expect(h.err()).toMatch(/missing required argument 'name'/);
    });
  });
});
