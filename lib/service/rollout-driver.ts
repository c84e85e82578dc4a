import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, WILDCARD_RESOURCE } from '../common/nag';
import { ServiceFunction } from '../common/service-function';
import type { CacheConnection } from './cache-connection';
import type { StoreAccess } from './store-access';

/** The default bus's event when a CloudWatch alarm (metric or composite) enters ALARM. */
export const ALARM_ENTERED_PATTERN: events.EventPattern = {
  source: ['aws.cloudwatch'],
  detailType: ['CloudWatch Alarm State Change'],
  detail: { state: { value: ['ALARM'] } },
};

/**
 * Lets a role read alarm states (the rollout driver each tick, the config-api when a rollout
 * names an alarm). `Resource: "*"` because DescribeAlarms returns composite alarms only to a
 * caller whose permission is scoped to `*`, and an operator may name a composite alarm.
 */
export function grantDescribeAlarms(role: iam.Role): void {
  role.addToPolicy(new iam.PolicyStatement({ sid: 'AlarmStates', actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
  acknowledge(
    role,
    WILDCARD_RESOURCE,
    'cloudwatch:DescribeAlarms answers composite alarms only when granted on "*" (a narrower scope hides them); it returns alarm metadata and states, never data.',
  );
}

export interface RolloutDriverProps {
  /** `tenant-config-<stage>`. */
  readonly name: string;
  readonly stage: string;
  readonly ssmRoot: string;
  readonly tableName: string;
  /** KMS key id for SecureString parameters; set only when some tag is secret. */
  readonly parameterKeyId?: string;
  readonly storeAccess: StoreAccess;
  readonly cache: CacheConnection;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** How often the driver ticks: the bake clock's granularity on AWS. @default Duration.minutes(1) (EventBridge's finest rate) */
  readonly tickInterval?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The rollout driver (docs/design.md §8.3): a function that runs one `RolloutService.tick()`
 * on a schedule and whenever a CloudWatch alarm enters ALARM. The rollout records in the tenant
 * table are its only state, so nothing here holds a rollout: a tick that dies mid-wave is
 * repaired by the next one, and overlapping ticks are safe (compare-and-set on the record's
 * revision and on the layer item's version), hence no reserved concurrency.
 */
export class RolloutDriver extends Construct {
  readonly handler: ServiceFunction;
  readonly schedule: events.Rule;
  readonly alarmRule: events.Rule;

  constructor(scope: Construct, id: string, props: RolloutDriverProps) {
    super(scope, id);
    const interval = props.tickInterval ?? Duration.minutes(1);
    if (interval.toSeconds() < 60) throw new Error('RolloutDriver: tickInterval must be at least one minute (EventBridge rates are whole minutes)');

    this.handler = new ServiceFunction(this, 'Handler', {
      entry: 'lambda/rollout-driver/handler.ts',
      description: 'Drives staged rollouts: waves after their bake, rollback on ALARM',
      serviceName: 'rollout-driver',
      memorySize: 512,
      // One tick writes one layer key per due rollout, in parallel; well below the one-minute interval.
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.cache.props.clientSecurityGroup],
      environment: {
        TABLE_NAME: props.tableName,
        SSM_ROOT: props.ssmRoot,
        STAGE: props.stage,
        ...(props.parameterKeyId ? { SSM_KMS_KEY_ID: props.parameterKeyId } : {}),
        ...props.cache.environment(),
      },
    });
    props.storeAccess.grant(this.handler.role, 'rollout-driver');
    props.cache.grantReadCredentials(this, this.handler.role);
    grantDescribeAlarms(this.handler.role);
    // A failed tick is not retried: the next scheduled one does the same work, from the records.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    this.schedule = new events.Rule(this, 'Tick', {
      ruleName: `${props.name}-rollout-tick`,
      description: `${props.name}: the rollout driver's bake clock`,
      schedule: events.Schedule.rate(interval),
    });
    this.schedule.addTarget(new targets.LambdaFunction(this.handler.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }));

    // Any alarm of the account: which alarms rollouts name is data, known only at run time. The tick reads their states itself.
    this.alarmRule = new events.Rule(this, 'AlarmEntered', {
      ruleName: `${props.name}-rollout-alarm`,
      description: `${props.name}: an alarm entered ALARM; the rollout driver ticks at once`,
      eventPattern: ALARM_ENTERED_PATTERN,
    });
    this.alarmRule.addTarget(new targets.LambdaFunction(this.handler.function, { retryAttempts: 2, maxEventAge: Duration.minutes(5) }));
  }
}
