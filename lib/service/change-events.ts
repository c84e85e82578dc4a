import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../common/nag';
import { ServiceFunction } from '../common/service-function';
import type { ChangeEventPatterns, ChangeRulePattern, EventPatternDocument } from '../config/change-event-patterns';
import type { CacheConnection } from './cache-connection';
import type { StoreAccess } from './store-access';

export interface ChangeEventsProps {
  /** `tenant-config-<stage>`. */
  readonly name: string;
  readonly stage: string;
  readonly ssmRoot: string;
  /** The stage's patterns (registry/event-patterns.json, placeholders filled). */
  readonly patterns: ChangeEventPatterns;
  /** Route DynamoDB changes (some tag lives in DynamoDB). */
  readonly routeTableChanges: boolean;
  /** Route Parameter Store changes (some tag lives in Parameter Store). */
  readonly routeParameterChanges: boolean;
  readonly table: dynamodb.ITable;
  readonly tableKey: kms.IKey;
  readonly storeAccess: StoreAccess;
  readonly cache: CacheConnection;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Delivery attempts of a rule target before its DLQ. @default 8 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(2) */
  readonly maxEventAge?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** The DLQs of the change path, by what lands in them. */
export interface ChangeDeadLetterQueues {
  /** Stream records the Pipe could not put on the bus. */
  readonly pipe?: sqs.Queue;
  /** Events a rule could not deliver to the function. */
  readonly tableChangeRule?: sqs.Queue;
  readonly parameterChangeRule?: sqs.Queue;
  /** Events the function failed on after its own retries. */
  readonly refreshFailures: sqs.Queue;
}

/**
 * The change path that keeps the cache fresh: DynamoDB stream → EventBridge Pipe (filter from the
 * registry: only registered DynamoDB tags, never lease rows) → the stage's config-changes bus →
 * rule → cache-refresh; and Parameter Store's own "Parameter Store Change" events on the default
 * bus → rule (this stage's tenant subtree only) → cache-refresh. Every hop retries and ends in an
 * encrypted DLQ, so an event is either applied or kept for a redrive, never dropped silently.
 */
export class ChangeEvents extends Construct {
  readonly refresh: ServiceFunction;
  readonly bus: events.EventBus;
  readonly pipe?: pipes.CfnPipe;
  readonly rules: events.Rule[] = [];
  readonly deadLetterQueues: ChangeDeadLetterQueues;

  constructor(scope: Construct, id: string, props: ChangeEventsProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 8;
    const maxEventAge = props.maxEventAge ?? Duration.hours(2);

    this.refresh = new ServiceFunction(this, 'CacheRefresh', {
      entry: 'lambda/cache-refresh/handler.ts',
      description: 'Applies table and Parameter Store changes to the cache and its change log',
      serviceName: 'cache-refresh',
      memorySize: 512,
      timeout: Duration.seconds(15),
      logRetention: props.logRetention,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.cache.props.clientSecurityGroup],
      environment: { SSM_ROOT: props.ssmRoot, STAGE: props.stage, ...props.cache.environment() },
    });
    props.storeAccess.grant(this.refresh.role, 'cache-refresh');
    props.cache.grantReadCredentials(this, this.refresh.role);

    const refreshFailures = this.deadLetterQueue(
      'RefreshFailures',
      'the change events cache-refresh failed on after its retries (async on-failure destination)',
    );
    this.refresh.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge,
      onFailure: new destinations.SqsDestination(refreshFailures),
    });

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `${props.name}-config-changes`,
      description: 'Tenant config changes from the table stream (via the Pipe)',
    });

    let pipeDlq: sqs.Queue | undefined;
    let tableRuleDlq: sqs.Queue | undefined;
    let parameterRuleDlq: sqs.Queue | undefined;
    if (props.routeTableChanges) {
      pipeDlq = this.deadLetterQueue('PipeFailures', 'stream records the Pipe could not deliver to the config-changes bus');
      this.pipe = this.tableChangePipe(props, pipeDlq, retryAttempts);
      tableRuleDlq = this.deadLetterQueue('TableChangeRuleFailures', 'table change events the rule could not deliver to cache-refresh');
      this.addRule('TableChange', `${props.name}-table-change`, props.patterns.rules.dynamodbChange, tableRuleDlq, retryAttempts, maxEventAge);
    }
    if (props.routeParameterChanges) {
      parameterRuleDlq = this.deadLetterQueue('ParameterChangeRuleFailures', 'Parameter Store change events the rule could not deliver to cache-refresh');
      this.addRule(
        'ParameterChange',
        `${props.name}-parameter-change`,
        props.patterns.rules.parameterStoreChange,
        parameterRuleDlq,
        retryAttempts,
        maxEventAge,
      );
    }
    this.deadLetterQueues = { pipe: pipeDlq, tableChangeRule: tableRuleDlq, parameterChangeRule: parameterRuleDlq, refreshFailures };
  }

  private deadLetterQueue(id: string, holds: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(queue, 'AwsSolutions-SQS3', `This queue is itself a dead-letter queue: it holds ${holds}.`);
    return queue;
  }

  private addRule(id: string, ruleName: string, spec: ChangeRulePattern, dlq: sqs.Queue, retryAttempts: number, maxEventAge: Duration): void {
    const rule = new events.Rule(this, id, {
      ruleName,
      description: `${ruleName}: change events to cache-refresh`,
      // 'default' is the account's default bus, where Parameter Store publishes.
      eventBus: spec.eventBus === 'default' ? undefined : this.bus,
      eventPattern: toEventPattern(spec.pattern),
    });
    rule.addTarget(new targets.LambdaFunction(this.refresh.function, { deadLetterQueue: dlq, retryAttempts, maxEventAge }));
    this.rules.push(rule);
  }

  private tableChangePipe(props: ChangeEventsProps, dlq: sqs.Queue, retryAttempts: number): pipes.CfnPipe {
    const streamArn = props.table.tableStreamArn;
    if (!streamArn) throw new Error('ChangeEvents: the tenant table has no stream');
    const logGroup = new logs.LogGroup(this, 'PipeLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Tenant table stream -> config-changes bus',
      inlinePolicies: {
        pipe: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ReadTableStream',
              actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
              resources: [streamArn],
            }),
            new iam.PolicyStatement({
              sid: 'DecryptTableStream',
              actions: ['kms:Decrypt'],
              resources: [props.tableKey.keyArn],
              conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
            }),
            new iam.PolicyStatement({ sid: 'PutOnBus', actions: ['events:PutEvents'], resources: [this.bus.eventBusArn] }),
            new iam.PolicyStatement({ sid: 'DeadLetters', actions: ['sqs:SendMessage'], resources: [dlq.queueArn] }),
            new iam.PolicyStatement({ sid: 'PipeLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
          ],
        }),
      },
    });
    const pipeSpec = props.patterns.dynamodbPipe;
    const pipe = new pipes.CfnPipe(this, 'TableChangePipe', {
      name: `${props.name}-table-changes`,
      description: 'Tenant table stream records of registered DynamoDB tags to the config-changes bus',
      roleArn: role.roleArn,
      desiredState: 'RUNNING',
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'LATEST',
          batchSize: 10,
          maximumBatchingWindowInSeconds: 1,
          maximumRetryAttempts: retryAttempts,
          // Older than a day, a change has been superseded or repaired by a later one.
          maximumRecordAgeInSeconds: 86_400,
          deadLetterConfig: { arn: dlq.queueArn },
        },
        filterCriteria: { filters: pipeSpec.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
      },
      target: this.bus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: { source: pipeSpec.source, detailType: pipeSpec.detailType },
      },
      logConfiguration: { level: 'ERROR', cloudwatchLogsLogDestination: { logGroupArn: logGroup.logGroupArn } },
    });
    return pipe;
  }
}

/** The JSON pattern's keys in CDK's EventPattern spelling (`detail-type` → `detailType`). */
function toEventPattern(pattern: EventPatternDocument): events.EventPattern {
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    renamed[key === 'detail-type' ? 'detailType' : key] = value;
  }
  return renamed as events.EventPattern;
}
