/**
 * cdk-nag (AwsSolutions, v3 API) and cfn-lint over every synthesized template, for the default
 * stage and for a production stage with a certificate, a custom domain and a pinned region.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describeIf } from '../support/servers';
import { readStageConfig } from '../../lib/config/stage-config';
import { createTenantConfigApp } from '../../lib/tenant-config-app';
import { CDK_CONTEXT, FANOUT_DOCKERFILE, synthesize, type Synthesized } from './support/synth';

const VARIANTS: Record<string, Record<string, unknown>> = {
  dev: {},
  'prod-tls': {
    stage: 'prod',
    region: 'eu-west-1',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012',
    domainName: 'config.example.com',
    alarmEmail: 'ops@example.com',
    services: 'billing:read,reports:read+read-secrets',
  },
};

const synthesized: Record<string, Synthesized> = {};
beforeAll(() => {
  for (const [name, context] of Object.entries(VARIANTS)) synthesized[name] = synthesize({ context });
});

const stacksOf = (s: Synthesized): Stack[] => [s.stacks.network, s.stacks.data, s.stacks.service];

describe('cdk-nag AwsSolutions', () => {
  it.each(Object.keys(VARIANTS))('reports no unacknowledged finding on any stack (%s)', (variant) => {
    for (const stack of stacksOf(synthesized[variant])) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      const findings = report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      expect({ stack: stack.stackName, findings }).toEqual({ stack: stack.stackName, findings: [] });
    }
  });

  it('gives every acknowledgement a reason', () => {
    const acknowledgements: Array<{ path: string; id: string; reason: string }> = [];
    const visit = (node: IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
          // Stored as `Annotation::<id>` for ids without a plugin namespace (how cdk-nag reads them too).
          acknowledgements.push({ path: node.node.path, id: qualified.replace(/^annotation::/i, ''), reason });
        }
      }
      node.node.children.forEach(visit);
    };
    for (const variant of Object.keys(VARIANTS)) visit(synthesized[variant].app);
    // aws-cdk-lib acknowledges some of its own CloudFormation-Validate rules; ours are the nag ones.
    const ours = acknowledgements.filter((a) => a.id.startsWith('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(10);
    for (const a of ours) {
      expect(a.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect({ id: a.id, reasonLength: a.reason.length > 40 }).toEqual({ id: a.id, reasonLength: true });
    }
  });

  it('registers the pack on the app, so `cdk synth` fails on any new finding', () => {
    // The tests above run the pack themselves; the app as bin/app.ts builds it carries it.
    // Bundling skipped: only the construct tree matters here.
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    createTenantConfigApp(
      app,
      readStageConfig((key) => app.node.tryGetContext(key)),
      { fanoutDockerfile: FANOUT_DOCKERFILE },
    );
    const plugins = (app as unknown as { _validationPlugins: unknown[] })._validationPlugins;
    expect(plugins.some((p) => p instanceof AwsSolutionsChecks)).toBe(true);
  });
});

/** Warnings cfn-lint may report, each with the reason it is accepted. */
const ACCEPTED_WARNINGS: Record<string, string> = {
  W3005: "aws-cdk-lib's Function adds an explicit DependsOn on its role next to the GetAtt; redundant, harmless.",
};

describeIf('cfn-lint')('cfn-lint', () => {
  it('finds no error, and no warning outside the accepted ones, in any synthesized template', () => {
    const templates = Object.values(synthesized).flatMap((s) =>
      readdirSync(s.outdir)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => join(s.outdir, f)),
    );
    expect(templates).toHaveLength(3 * Object.keys(VARIANTS).length);
    const run = spawnSync('cfn-lint', ['--format', 'json', ...templates], { encoding: 'utf8', timeout: 120_000 });
    expect(run.error).toBeUndefined();
    const matches = JSON.parse(run.stdout || '[]') as Array<{ Level: string; Rule: { Id: string }; Message: string; Filename: string }>;
    const describe = (m: (typeof matches)[number]) => `${m.Rule.Id} ${m.Filename}: ${m.Message}`;
    expect(matches.filter((m) => m.Level === 'Error').map(describe)).toEqual([]);
    expect(matches.filter((m) => m.Level !== 'Error' && !(m.Rule.Id in ACCEPTED_WARNINGS)).map(describe)).toEqual([]);
  });
});
