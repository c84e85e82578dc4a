/**
 * Synth as a product: deterministic, Docker-free, and `npx cdk synth --all -c stage=dev` working
 * on a machine with no AWS credentials.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MISSING_DOCKER, PROJECT_ROOT, synthesize, type Synthesized } from './support/synth';

interface AssetManifest {
  dockerImages?: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
  files?: Record<string, { displayName?: string; source: { path: string; packaging: string } }>;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('synthesis', () => {
  let first: Synthesized;
  let second: Synthesized;

  beforeAll(() => {
    first = synthesize();
    second = synthesize({ outdir: mkdtempSync(join(tmpdir(), 'cdk-test-second-')) });
  });

  it('gives byte-identical templates and asset manifests on every run, wherever the output goes', () => {
    const names = readdirSync(first.outdir)
      .filter((f) => /\.(template|assets)\.json$/.test(f))
      .sort();
    expect(names).toHaveLength(6);
    for (const name of names) {
      expect({ name, text: readFileSync(join(second.outdir, name), 'utf8') }).toEqual({ name, text: readFileSync(join(first.outdir, name), 'utf8') });
    }
  });

  it('puts no build time or random value in a template', () => {
    for (const name of readdirSync(first.outdir).filter((f) => f.endsWith('.template.json'))) {
      const text = readFileSync(join(first.outdir, name), 'utf8');
      expect(text).not.toMatch(/20\d\d-\d\d-\d\dT\d\d:\d\d/);
    }
  });

  it('never needs Docker: Docker points nowhere, yet the fanout image is a synthesized asset for linux/arm64', () => {
    expect(process.env.CDK_DOCKER).toBe(MISSING_DOCKER);
    expect(existsSync(MISSING_DOCKER)).toBe(false);
    const manifest = JSON.parse(readFileSync(join(first.outdir, `${first.stacks.service.stackName}.assets.json`), 'utf8')) as AssetManifest;
    const images = Object.values(manifest.dockerImages ?? {});
    expect(images).toHaveLength(1);
    expect(images[0].source).toMatchObject({ dockerFile: expect.stringMatching(/Dockerfile/), platform: 'linux/arm64' });
    // Lambda code was bundled by the local esbuild into zip assets, one per function.
    // (The admin console's BucketDeployment adds zips of its own: its handler, the AWS CLI layer, the files.)
    const zips = Object.values(manifest.files ?? {}).filter((f) => f.source.packaging === 'zip' && !/Console\/|CDKBucketDeployment/.test(f.displayName ?? ''));
    expect(zips.map((z) => z.displayName).sort()).toEqual([
      // aws-cdk-lib's prebuilt AwsCustomResource handler (the CloudFront prefix list lookup): nothing bundled.
      'AWS679f53fac002430cb0da5b7982bd2287/Code',
      'Default/ChangeEvents/CacheRefresh/Function/Code',
      'Default/ConfigApi/Handler/Function/Code',
      'Default/Rollouts/Handler/Function/Code',
    ]);
  });

  it('stages only what the fanout image needs as its build context (the .dockerignore allowlist)', () => {
    const manifest = JSON.parse(readFileSync(join(first.outdir, `${first.stacks.service.stackName}.assets.json`), 'utf8')) as AssetManifest;
    const context = join(first.outdir, Object.values(manifest.dockerImages!)[0].source.directory);
    const files = filesUnder(context).map((f) => relative(context, f));
    const topLevel = new Set(files.map((f) => f.split('/')[0]));
    for (const entry of topLevel) {
      expect(['.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'core', 'adapters', 'fanout', 'proto', 'registry']).toContain(entry);
    }
    expect(files).toContain('package-lock.json');
    expect(files).toContain('fanout/Dockerfile');
    expect(files.some((f) => f.startsWith('fanout/'))).toBe(true);
  });

  it('`npx cdk synth --all -c stage=dev` works with no AWS credentials and no Docker', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-cli-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CDK_DOCKER: MISSING_DOCKER,
      AWS_SHARED_CREDENTIALS_FILE: join(outdir, 'none'),
      AWS_CONFIG_FILE: join(outdir, 'none'),
    };
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']) delete env[name];
    // CDK's built-in template checks stay off (cfn-lint covers the templates); cdk-nag runs as in any synth.
    const cli = join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
    const run = spawnSync(process.execPath, [cli, 'synth', '--all', '-c', 'stage=dev', '-o', outdir], {
      cwd: PROJECT_ROOT,
      env,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
    expect(
      readdirSync(outdir)
        .filter((f) => f.endsWith('.template.json'))
        .sort(),
    ).toEqual(['TenantConfig-dev-Data.template.json', 'TenantConfig-dev-Network.template.json', 'TenantConfig-dev-Service.template.json']);
  }, 240_000);
});
