import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readStageConfig, STAGE_PATTERN, StageConfigError } from '../../lib/config/stage-config';
import { PROJECT_ROOT } from './support/synth';

const read = (context: Record<string, unknown>) => readStageConfig((key) => context[key]);

/** Runs the CDK app entry (bin/app.ts) as `cdk synth` would, with the given context. */
const synthApp = (context: Record<string, unknown>) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(PROJECT_ROOT, 'bin', 'app.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-bad-context-')) },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('stage configuration', () => {
  it('defaults to an environment-agnostic dev stage', () => {
    expect(read({})).toEqual({
      stage: 'dev',
      ssmRoot: 'tenant-config',
      account: undefined,
      region: undefined,
      certificateArn: undefined,
      domainName: undefined,
      natGateways: 1,
      production: false,
      alarmEmail: undefined,
      services: [],
      authDomainPrefix: undefined,
      requireTenantRegistration: false,
    });
  });

  it('reads requireTenantRegistration as true or false, and refuses anything else', () => {
    expect(read({ requireTenantRegistration: 'true' }).requireTenantRegistration).toBe(true);
    expect(read({ requireTenantRegistration: false }).requireTenantRegistration).toBe(false);
    expect(() => read({ requireTenantRegistration: 'yes' })).toThrow(/context 'requireTenantRegistration' must be true or false/);
  });

  it('reads service clients from -c services=<name>:<scope>[+<scope>],... and from a cdk.json list', () => {
    expect(read({ services: 'billing:read, reports-eu:read+read-secrets' }).services).toEqual([
      { name: 'billing', scopes: ['read'] },
      { name: 'reports-eu', scopes: ['read', 'read-secrets'] },
    ]);
    expect(read({ services: [{ name: 'billing', scopes: ['read-secrets', 'read'] }] }).services).toEqual([
      { name: 'billing', scopes: ['read', 'read-secrets'] },
    ]);
    expect(read({ authDomainPrefix: 'acme-config-dev' }).authDomainPrefix).toBe('acme-config-dev');
  });

  it('treats the prod stage as production: NAT per AZ', () => {
    expect(read({ stage: 'prod' })).toMatchObject({ production: true, natGateways: 2 });
    expect(read({ stage: 'staging', production: 'true', natGateways: '3' })).toMatchObject({ production: true, natGateways: 3 });
  });

  it('accepts -c strings and cdk.json values alike', () => {
    expect(read({ natGateways: 2, production: false })).toMatchObject({ natGateways: 2, production: false });
    expect(read({ natGateways: '2', production: 'false' })).toMatchObject({ natGateways: 2, production: false });
  });

  it.each([
    [{ stage: 'Prod' }, /context 'stage' must be 1-16 lower-case letters/],
    [{ stage: 'my_stage' }, /context 'stage'/],
    [{ stage: 'a--b' }, /context 'stage'/],
    [{ stage: '9lives' }, /context 'stage'/],
    [{ stage: 'a-very-long-stage-name' }, /context 'stage'/],
    [{ stage: 42 }, /context 'stage' must be a string/],
    [{ ssmRoot: 'aws-config' }, /context 'ssmRoot'.*not starting with 'aws' or 'ssm'/],
    [{ ssmRoot: 'a/b' }, /context 'ssmRoot'/],
    [{ account: '1234' }, /context 'account' must be a 12-digit AWS account id/],
    [{ region: 'europe' }, /context 'region' must be an AWS region name/],
    [{ certificateArn: 'arn:aws:iam::123456789012:role/x' }, /context 'certificateArn' must be an ACM certificate ARN/],
    [{ domainName: 'config.example.com' }, /context 'domainName' \(config.example.com\) needs 'certificateArn'/],
    [
      { region: 'us-east-1', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' },
      /'certificateArn' is in eu-west-1, but the stacks deploy to us-east-1/,
    ],
    [{ natGateways: 0 }, /context 'natGateways' must be an integer from 1 to 3/],
    [{ natGateways: 'two' }, /context 'natGateways'/],
    [{ production: 'yes' }, /context 'production' must be true or false/],
    [{ stage: '  ' }, /context 'stage' must be 1-16 lower-case letters/],
    [{ alarmEmail: 'ops' }, /context 'alarmEmail' must be an e-mail address/],
    [{ services: 'billing' }, /context 'services' must be <name>:<scope>\[\+<scope>\], comma-separated/],
    [{ services: 'billing:read,' }, /context 'services' must be <name>:<scope>/],
    [{ services: 'Billing:read' }, /context 'services': service #1: name "Billing" must be 1-32 lower-case letters/],
    [{ services: 'billing:write' }, /context 'services': service 'billing': unknown scope "write" \(expected 'read' or 'read-secrets'\)/],
    [{ services: 'billing:read-secrets' }, /context 'services': service 'billing': scopes must include 'read'/],
    [{ services: 'billing:read,billing:read+read-secrets' }, /context 'services': service 'billing' is listed twice/],
    [{ services: 42 }, /context 'services' must be/],
    [{ authDomainPrefix: 'my-aws-auth' }, /context 'authDomainPrefix' must be 1-63 lower-case letters.*without 'aws'/],
    [{ authDomainPrefix: 'Auth' }, /context 'authDomainPrefix'/],
    [{ stage: 'amazon' }, /context 'stage' \(amazon\) would put a word Cognito reserves.*set 'authDomainPrefix'/],
  ])('rejects %j with a message naming the setting', (context, message) => {
    expect(() => read(context)).toThrow(StageConfigError);
    expect(() => read(context)).toThrow(message);
  });

  it('accepts exactly the stage names that fit stack, cache and parameter names', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (stage) => {
        const accepted = (() => {
          try {
            read({ stage });
            return true;
          } catch {
            return false;
          }
        })();
        // Context values are trimmed; no value at all means the default stage, a blank one is refused
        // (a typo must never deploy the default stage).
        const given = stage.trim();
        expect(accepted).toBe(stage === '' || STAGE_PATTERN.test(given));
        if (accepted && given !== '') {
          // `tenant-config-<stage>` is the ElastiCache name: ≤ 40 chars, no double hyphen, no trailing hyphen.
          const cacheName = `tenant-config-${given}`;
          expect(cacheName.length).toBeLessThanOrEqual(40);
          expect(cacheName).not.toMatch(/--|-$/);
        }
      }),
    );
  });

  it('stops `cdk synth` (the app entry) with a clear message for a bad stage, before building anything', () => {
    const result = synthApp({ stage: 'Bad_Stage' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Invalid deployment settings: context 'stage' must be 1-16 lower-case letters");
    expect(result.stdout + result.stderr).not.toContain('Bundling');
  });

  it('stops `cdk synth` with a clear message for a bad service list', () => {
    const result = synthApp({ services: 'billing:write' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Invalid deployment settings: context 'services': service 'billing': unknown scope \"write\"");
  });
});
