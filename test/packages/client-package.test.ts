/**
 * PACK TEST (slow: ~40 s — npm pack, two npm installs, the local system): @tenant-config/client
 * as a user gets it. The tarball (`npm pack`, tsup via prepack) is installed with `npm install
 * <tarball>` into a fresh ESM project and a fresh CommonJS project in temp dirs, outside this
 * repository; in each, a small program imports (or requires) the package, reaches `live` against
 * the local system (startLocalSystem on free ports) and reads a value written through the HTTP
 * API, then sees a change. Their TypeScript consumers type-check against the package's own types,
 * and the README's "SDK in ten lines" (between its sdk-example markers) runs as written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { cleanEnv, installInto, packClient } from '../../packages/client/scripts/pack';

const ROOT = resolve(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The first ```js block between the README's sdk-example markers. */
export function readmeSdkExample(readme = readFileSync(join(ROOT, 'README.md'), 'utf8')): string {
  const section = /<!-- sdk-example:start -->([\s\S]*?)<!-- sdk-example:end -->/.exec(readme);
  if (!section) throw new Error('README.md has no <!-- sdk-example:start --> … <!-- sdk-example:end --> section');
  const block = /```js\n([\s\S]*?)```/.exec(section[1]);
  if (!block) throw new Error('the README SDK section has no ```js block');
  return block[1];
}

const program = (kind: 'module' | 'commonjs') => `${
  kind === 'module'
    ? "import { ConfigClient, createTestClient } from '@tenant-config/client';\nconst resolved = import.meta.resolve('@tenant-config/client');"
    : "const { ConfigClient, createTestClient } = require('@tenant-config/client');\nconst resolved = require.resolve('@tenant-config/client');"
}
const began = Date.now();
const config = new ConfigClient({ grpcTarget: process.env.GRPC, httpBaseUrl: process.env.HTTP, token: () => process.env.TOKEN, prefixes: ['tenantconfig:'] });
config.start({ timeoutMs: 10000 }).then(() => {
  const double = createTestClient({ 'tenantconfig:plan': 'test' });
  console.log(JSON.stringify({ event: 'live', status: config.status, plan: config.getString('tenantconfig:plan'), seats: config.getNumber('tenantconfig:seats', 0), ms: Date.now() - began, resolved: String(resolved), double: double.get('tenantconfig:plan') }));
  config.onChange((c) => {
    console.log(JSON.stringify({ event: 'change', key: c.key, value: c.value }));
    void config.close();
  });
}, (e) => { console.error(e); process.exit(1); });
`;

const consumerTs = `import { ConfigClient, ConfigValueTypeError, createTestClient, type ConfigChange } from '@tenant-config/client';
const config = new ConfigClient({ grpcTarget: '127.0.0.1:50051', token: () => 'token', metrics: { onLag: (e) => void e.lagMs } });
const plan: string = config.get('tenantconfig:plan', 'free');
const seats: number = config.getNumber('tenantconfig:seats', 1);
const isPlan = (v: unknown): v is { tier: string } => typeof v === 'object' && v !== null;
const tier: string | undefined = config.getJson('tenantconfig:plan', isPlan)?.tier;
const double = createTestClient({ 'tenantconfig:plan': 'gold' }).set('tenantconfig:seats', 3);
double.onChange((c: ConfigChange) => void c.key);
export const all = [plan, seats, tier, double, ConfigValueTypeError];
`;

interface Line {
  event: string;
  [k: string]: unknown;
}

/** Runs `node file` in `cwd`; resolves each JSON line as it comes. */
function runNode(cwd: string, file: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [file], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const waitFor = async (match: (line: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(match);
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what}: not seen; stdout ${JSON.stringify(lines)}; stderr ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, lines, exited, waitFor, stderr: () => stderr };
}

describe('PACK TEST (slow, ~40 s): @tenant-config/client packed, installed in fresh ESM and CommonJS projects, run against the local system', () => {
  let dir: string;
  let system: LocalSystem;
  let tarball: string;
  let admin: string;
  let reader: string;
  const project = (kind: 'module' | 'commonjs') => join(dir, kind === 'module' ? 'esm' : 'cjs');
  const put = async (key: string, value: unknown) => {
    const res = await fetch(`${system.endpoints.http}/v1/config/${key}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    expect([200, 201]).toContain(res.status);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'client-package-'));
    const [started, packed] = await Promise.all([
      startLocalSystem({ dir: join(dir, 'system'), port: 0, grpcPort: 0, fanoutDrainMs: 200 }),
      packClient(join(dir, 'pack')),
    ]);
    system = started;
    tarball = packed;
    await Promise.all([installInto(project('module'), tarball, 'module'), installInto(project('commonjs'), tarball, 'commonjs')]);
    admin = system.signer.signToken({ tenant: 'acme', admin: true });
    reader = system.signer.signToken({ tenant: 'acme', admin: false });
    await put('tenantconfig:plan', 'gold');
    await put('tenantconfig:seats', 25);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball holds dist/ (ESM, CJS, types), package.json and README.md — no source, no proto file', () => {
    const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/README.md',
        'package/dist/index.d.mts',
        'package/dist/index.d.ts',
        'package/dist/index.js',
        'package/dist/index.mjs',
        'package/package.json',
      ]),
    );
    expect(listing.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$)/.test(f))).toEqual([]);
    const installed = join(project('module'), 'node_modules', '@tenant-config', 'client', 'dist');
    for (const file of readdirSync(installed).filter((f) => /\.(m?js)$/.test(f))) {
      expect(readFileSync(join(installed, file), 'utf8')).not.toMatch(/__dirname|config\.proto|readFileSync/);
    }
  });

  it.each(['module', 'commonjs'] as const)('a %s project: reaches live, reads the values written over HTTP, sees a change', async (kind) => {
    const cwd = project(kind);
    const file = kind === 'module' ? 'main.mjs' : 'main.cjs';
    writeFileSync(join(cwd, file), program(kind));
    const run = runNode(cwd, file, { GRPC: system.endpoints.grpc, HTTP: system.endpoints.http, TOKEN: reader });

    const live = JSON.parse(await run.waitFor((l) => l.includes('"live"'), 'live')) as Line;
    expect(live).toMatchObject({ status: 'live', plan: 'gold', seats: 25, double: 'test' });
    expect(String(live.resolved)).toMatch(
      kind === 'module' ? /node_modules\/@tenant-config\/client\/dist\/index\.mjs$/ : /node_modules\/@tenant-config\/client\/dist\/index\.js$/,
    );
    await put(`tenantconfig:flag-${kind}`, true); // a key of its own: the other tests' values stay
    const change = JSON.parse(await run.waitFor((l) => l.includes('"change"'), 'the change')) as Line;
    expect(change).toMatchObject({ key: `tenantconfig:flag-${kind}`, value: true });
    expect(await run.exited).toBe(0); // close() leaves nothing keeping the process alive
    expect(run.stderr()).toBe('');
  });

  it.each(['module', 'commonjs'] as const)('a %s TypeScript consumer type-checks against the packaged types', (kind) => {
    const cwd = join(project(kind), 'ts');
    mkdirSync(cwd, { recursive: true });
    const ext = kind === 'module' ? 'mts' : 'cts';
    writeFileSync(join(cwd, `consumer.${ext}`), consumerTs);
    writeFileSync(
      join(cwd, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: [`consumer.${ext}`],
      }),
    );
    expect(() => execFileSync(process.execPath, [TSC, '-p', cwd], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
  });

  it("the README's SDK in ten lines runs as written (ESM project, endpoints.json, a dev token) and exits on SIGTERM", async () => {
    const cwd = project('module');
    writeFileSync(join(cwd, 'example.mjs'), readmeSdkExample());
    mkdirSync(join(cwd, '.local'), { recursive: true });
    writeFileSync(join(cwd, '.local', 'endpoints.json'), readFileSync(system.endpointsFile));
    const run = runNode(cwd, 'example.mjs', { TENANT_TOKEN: reader });

    const first = await run.waitFor((l) => l.startsWith('live'), 'the example printing its status');
    expect(first).toMatch(/^live gold 25$/);
    await put('tenantconfig:seats', 30);
    await run.waitFor((l) => l.startsWith('tenantconfig:seats'), 'the example printing the change');
    expect(run.lines).toContain('tenantconfig:seats 25 -> 30');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
