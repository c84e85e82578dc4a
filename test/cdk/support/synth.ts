/**
 * Synthesizes the app the way bin/app.ts does (cdk.json context + overrides), for tests.
 * Docker is pointed at a path that does not exist before anything is built, so a synth
 * that needed Docker would fail here, not pass quietly.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readStageConfig, type StageConfig } from '../../../lib/config/stage-config';
import type { TagRegistryDocument } from '../../../lib/config/tag-registry-data';
import { createTenantConfigApp, type TenantConfigStacks } from '../../../lib/tenant-config-app';

export const MISSING_DOCKER = '/nonexistent/docker-for-cdk-tests';
process.env.CDK_DOCKER = MISSING_DOCKER;
// CDK's own template validation adds ~6 s per synth; cfn-lint (test/cdk/cfn-lint.test.ts) checks the
// same templates more strictly, and the CLI synth test runs the app with it on.
process.env.CDK_VALIDATION = 'false';

export const PROJECT_ROOT = join(__dirname, '..', '..', '..');
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;

/** The fanout's Dockerfile, as bin/app.ts uses it. */
export const FANOUT_DOCKERFILE = 'fanout/Dockerfile';

export interface SynthOptions {
  /** Context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  readonly tagRegistry?: TagRegistryDocument;
  readonly eventPatterns?: unknown;
  /** @default a fresh temporary directory */
  readonly outdir?: string;
  /** Bundle the functions; off where only the construct tree matters (saves ~1 s a synth). @default true */
  readonly bundle?: boolean;
}

export interface Synthesized {
  readonly app: App;
  readonly config: StageConfig;
  readonly stacks: TenantConfigStacks;
  readonly templates: { readonly network: Template; readonly data: Template; readonly service: Template };
  readonly outdir: string;
}

export function synthesize(options: SynthOptions = {}): Synthesized {
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'cdk-test-'));
  const skipBundling = options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {};
  const app = new App({ outdir, context: { ...CDK_CONTEXT, ...skipBundling, ...options.context } });
  const config = readStageConfig((key) => app.node.tryGetContext(key));
  const stacks = createTenantConfigApp(app, config, {
    tagRegistry: options.tagRegistry,
    eventPatterns: options.eventPatterns,
    fanoutDockerfile: FANOUT_DOCKERFILE,
    // The nag test runs the pack itself, to report every finding rather than fail at the first.
    nag: false,
  });
  app.synth();
  const template = (stack: Stack) => Template.fromStack(stack);
  return {
    app,
    config,
    stacks,
    templates: { network: template(stacks.network), data: template(stacks.data), service: template(stacks.service) },
    outdir,
  };
}

/** A template for review snapshots: asset hashes (which change with any runtime edit) masked. */
export function snapshotOf(template: Template): unknown {
  const text = JSON.stringify(template.toJSON()).replace(/[0-9a-f]{64}/g, '<asset-hash>');
  return JSON.parse(text);
}

/** Resources of a type, as `[logicalId, resource]` pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, { Properties?: Record<string, unknown>; [k: string]: unknown }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties?: Record<string, unknown> }]>;
}

/** The statements of every IAM policy attached to roles whose logical id starts with `rolePrefix`. */
export function statementsOfRole(template: Template, rolePrefix: string): Array<Record<string, unknown>> {
  const statements: Array<Record<string, unknown>> = [];
  for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
    const roles = (policy.Properties?.Roles ?? []) as Array<{ Ref?: string }>;
    if (roles.some((r) => r.Ref?.startsWith(rolePrefix))) {
      statements.push(...(policy.Properties?.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
    }
  }
  for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
    if (!id.startsWith(rolePrefix)) continue;
    for (const p of (role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>) {
      statements.push(...p.PolicyDocument.Statement);
    }
  }
  return statements;
}

/** Every action a role is allowed, flattened. */
export function actionsOfRole(template: Template, rolePrefix: string): string[] {
  return statementsOfRole(template, rolePrefix).flatMap((s) => (Array.isArray(s.Action) ? (s.Action as string[]) : [s.Action as string]));
}
