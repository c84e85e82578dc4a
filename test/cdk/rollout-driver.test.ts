/**
 * The rollout driver on AWS (docs/design.md §8.3): a function ticked by a one-minute schedule
 * and by any alarm entering ALARM, with the config-api's write grants on the layers and
 * DescribeAlarms, which only it and the config-api hold.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RolloutDriver } from '../../lib/service/rollout-driver';
import { resourcesOf, statementsOfRole, synthesize } from './support/synth';

describe('rollout driver', () => {
  let template: Template;
  let driverArn: unknown;

  beforeAll(() => {
    template = synthesize({ bundle: false }).templates.service;
    const [id] = resourcesOf(template, 'AWS::Lambda::Function').find(([fid]) => fid.startsWith('RolloutsHandlerFunction'))!;
    driverArn = { 'Fn::GetAtt': [id, 'Arn'] };
  });

  const rules = () => resourcesOf(template, 'AWS::Events::Rule').filter(([id]) => id.startsWith('Rollouts'));

  it('is a function in the VPC with the cache client group, the store settings and no reserved concurrency', () => {
    const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('RolloutsHandlerFunction'))!;
    const props = fn.Properties!;
    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    expect(props.VpcConfig).toBeDefined();
    const vars = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(vars)).toEqual(expect.arrayContaining(['TABLE_NAME', 'SSM_ROOT', 'STAGE', 'CACHE_REDIS_HOST', 'CACHE_REDIS_PASSWORD_PARAMETER']));
    expect(vars.POWERTOOLS_SERVICE_NAME).toBe('rollout-driver');
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^RolloutsHandlerFunction') },
      MaximumRetryAttempts: 0,
    });
  });

  it('ticks every minute, and at once when any alarm enters ALARM (metric or composite, default bus)', () => {
    expect(rules()).toHaveLength(2);
    const schedule = rules().find(([, r]) => r.Properties!.ScheduleExpression)![1].Properties!;
    expect(schedule.ScheduleExpression).toBe('rate(1 minute)');
    const alarm = rules().find(([, r]) => r.Properties!.EventPattern)![1].Properties!;
    expect(alarm.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { state: { value: ['ALARM'] } },
    });
    expect(alarm.EventBusName).toBeUndefined();
    for (const [, rule] of rules()) {
      expect(rule.Properties!.State).toBe('ENABLED');
      expect(rule.Properties!.Targets).toEqual([expect.objectContaining({ Arn: driverArn })]);
    }
    // EventBridge may invoke the driver from these two rules, nothing else.
    const invokers = resourcesOf(template, 'AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p.Properties!.FunctionName).includes('RolloutsHandlerFunction'),
    );
    expect(invokers.map(([, p]) => p.Properties!.Principal)).toEqual(['events.amazonaws.com', 'events.amazonaws.com']);
  });

  it('grants cloudwatch:DescribeAlarms to the driver and the config-api only', () => {
    const holders = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties!.PolicyDocument).includes('cloudwatch:'))
      .flatMap(([, p]) => (p.Properties!.Roles as Array<{ Ref: string }>).map((r) => r.Ref.replace(/[0-9A-F]{8}$/, '')));
    expect(holders.sort()).toEqual(['ConfigApiHandlerRole', 'RolloutsHandlerRole']);
    for (const role of holders) {
      expect(statementsOfRole(template, role).filter((s) => JSON.stringify(s.Action).includes('cloudwatch:'))).toEqual([
        expect.objectContaining({ Sid: 'AlarmStates', Action: 'cloudwatch:DescribeAlarms', Resource: '*' }),
      ]);
    }
  });

  it('writes the layers as the config-api does, reads the cache password, and never lists or reads history', () => {
    const actions = statementsOfRole(template, 'RolloutsHandlerRole').flatMap((s) => [s.Action].flat() as string[]);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'ssm:PutParameter', 'ssm:DeleteParameter']));
    expect(actions).not.toEqual(expect.arrayContaining(['ssm:GetParametersByPath']));
    expect(actions).not.toEqual(expect.arrayContaining(['ssm:GetParameterHistory']));
    expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:Scan']));
    expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:BatchWriteItem']));
  });

  it('refuses a tick interval below one minute at synth', () => {
    const stack = new Stack(new App(), 'Probe');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const props = {
      name: 'p',
      stage: 'dev',
      ssmRoot: 'tenant-config',
      tableName: 't',
      storeAccess: {} as never,
      cache: {} as never,
      vpc,
      vpcSubnets: {},
      tickInterval: Duration.seconds(30),
    };
    expect(() => new RolloutDriver(stack, 'Driver', props)).toThrow(/at least one minute/);
  });
});
