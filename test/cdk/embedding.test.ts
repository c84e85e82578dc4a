/**
 * Embedding: a fresh CDK app with its own VPC (public and private-with-egress subnets, no
 * isolated ones) and its own user pool builds the whole service with `TenantConfigService`
 * from lib/index.ts; the result is cdk-nag clean and passes cfn-lint.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { hasBinary } from '../support/servers';
import { TenantConfigService } from '../../lib';
import { FANOUT_DOCKERFILE, MISSING_DOCKER } from './support/synth';

process.env.CDK_DOCKER = MISSING_DOCKER;
process.env.CDK_VALIDATION = 'false';

/** The embedding app's own resources, built the way a careful team would (nag-clean on their own). */
function hostStack(app: App): { stack: Stack; vpc: ec2.Vpc; userPool: cognito.UserPool } {
  const stack = new Stack(app, 'Host', { description: 'An app embedding the tenant config service' });
  const flowLogs = new logs.LogGroup(stack, 'FlowLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
  });
  const userPool = new cognito.UserPool(stack, 'Pool', {
    featurePlan: cognito.FeaturePlan.ESSENTIALS,
    selfSignUpEnabled: false,
    customAttributes: { tenant_id: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: false }) },
    passwordPolicy: {
      minLength: 14,
      requireDigits: true,
      requireLowercase: true,
      requireUppercase: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(userPool).acknowledge({
    id: 'AwsSolutions-COG8',
    reason: "The host app's choice: the Essentials plan has the access-token customisation the tenant claim needs.",
  });
  return { stack, vpc, userPool };
}

function synthEmbedded(): { app: App; stack: Stack; service: TenantConfigService; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-embed-'));
  const app = new App({ outdir });
  const { stack, vpc, userPool } = hostStack(app);
  const service = new TenantConfigService(stack, 'TenantConfig', {
    stage: 'embed',
    vpc,
    userPool,
    services: [{ name: 'billing', scopes: ['read'] }],
    fanoutDockerfile: FANOUT_DOCKERFILE,
    otlpEndpoint: 'http://localhost:4318',
  });
  // After the service, so the nag pack sees the finished tree.
  app.synth();
  return { app, stack, service, outdir };
}

const embedded = synthEmbedded();
const template = Template.fromStack(embedded.stack);

describe('TenantConfigService in a foreign app', () => {
  it('puts functions, cache and endpoints in the private subnets when the VPC has no isolated ones', () => {
    expect(embedded.service.subnets.functions).toEqual({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    const privateSubnets = embedded.stack.resolve(embedded.service.vpc.privateSubnets.map((s) => s.subnetId));
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { SubnetIds: privateSubnets });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Tenant config HTTP API (config-api)',
      VpcConfig: { SubnetIds: privateSubnets },
    });
  });

  it('adds the endpoints the functions need to the brought VPC', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(endpoints.some((n) => n.includes('.dynamodb'))).toBe(true);
    expect(endpoints.some((n) => n.includes('.s3'))).toBe(true);
    expect(endpoints.some((n) => n.includes('.ssm'))).toBe(true);
  });

  it('adds resource server, app clients and groups to the brought pool, and creates no pool of its own', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    const pool = embedded.stack.resolve(embedded.service.data.users.userPool.userPoolId);
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', { UserPoolId: pool, Identifier: 'tenant-config' });
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { UserPoolId: pool, GroupName: 'config-admins' });
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { UserPoolId: pool, GroupName: 'platform-operators' });
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 2);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    // The trigger is the pool owner's to attach; Cognito may already invoke it.
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'cognito-idp.amazonaws.com', Action: 'lambda:InvokeFunction' });
  });

  it('traces every function actively', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const f of functions) expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('points the fanout at the OTLP endpoint it was given', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'OTEL_EXPORTER_OTLP_ENDPOINT', Value: 'http://localhost:4318' },
            { Name: 'OTEL_SERVICE_NAME', Value: 'tenant-config-fanout' },
          ]),
        }),
      ]),
    });
  });

  it('is cdk-nag clean (AwsSolutions)', () => {
    const report = new AwsSolutionsChecks().validateScope(embedded.stack);
    const findings = report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });

  it('with no VPC and no pool of the app builds its own, in one stack, nag clean', () => {
    // Bundling skipped: only the construct tree matters here.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Solo');
    const service = new TenantConfigService(stack, 'TenantConfig', { stage: 'solo', fanoutDockerfile: FANOUT_DOCKERFILE });
    const solo = Template.fromStack(stack);
    expect(service.network).toBeDefined();
    expect(service.subnets.functions).toEqual({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
    solo.resourceCountIs('AWS::Cognito::UserPool', 1);
    solo.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('gives a brought pool a domain only when authDomainPrefix asks for one', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const { stack, vpc, userPool } = hostStack(app);
    const service = new TenantConfigService(stack, 'TenantConfig', {
      stage: 'embed',
      vpc,
      userPool,
      authDomainPrefix: 'acme-config-embed',
      fanoutDockerfile: FANOUT_DOCKERFILE,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-config-embed' });
    expect(service.data.users.tokenEndpoint).toBeDefined();
    expect(embedded.service.data.users.tokenEndpoint).toBeUndefined();
  });

  it('refuses a VPC without private subnets with egress, naming what is missing', () => {
    const app = new App();
    const stack = new Stack(app, 'NoEgress');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    expect(() => new TenantConfigService(stack, 'TenantConfig', { stage: 'embed', vpc, fanoutDockerfile: FANOUT_DOCKERFILE })).toThrow(
      /private subnets with egress/,
    );
  });

  it('refuses a bad stage the way `-c stage=` is refused', () => {
    const stack = new Stack(new App(), 'BadStage');
    expect(() => new TenantConfigService(stack, 'TenantConfig', { stage: 'Not_A_Stage' })).toThrow(/context 'stage' must be/);
  });
});

/** Warnings cfn-lint may report, each with the reason it is accepted (as in compliance.test.ts). */
const ACCEPTED_WARNINGS: Record<string, string> = {
  W3005: "aws-cdk-lib's Function adds an explicit DependsOn on its role next to the GetAtt; redundant, harmless.",
};

describe('cfn-lint on the embedded template', () => {
  const lint = hasBinary('cfn-lint') ? it : it.skip;
  if (!hasBinary('cfn-lint')) console.warn('\n*** SKIPPING cfn-lint of the embedded template: cfn-lint is not on PATH ***\n');
  lint('finds no error, and no warning outside the accepted ones', () => {
    const templates = readdirSync(embedded.outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(embedded.outdir, f));
    expect(templates).toHaveLength(1);
    const run = spawnSync('cfn-lint', ['--format', 'json', ...templates], { encoding: 'utf8', timeout: 120_000 });
    expect(run.error).toBeUndefined();
    const matches = JSON.parse(run.stdout || '[]') as Array<{ Level: string; Rule: { Id: string }; Message: string }>;
    const describe = (m: (typeof matches)[number]) => `${m.Rule.Id}: ${m.Message}`;
    expect(matches.filter((m) => m.Level === 'Error').map(describe)).toEqual([]);
    expect(matches.filter((m) => m.Level !== 'Error' && !(m.Rule.Id in ACCEPTED_WARNINGS)).map(describe)).toEqual([]);
  });
});
