import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../common/service-function';

export interface MonitoringProps {
  /** `tenant-config-<stage>`: the dashboard's name. */
  readonly name: string;
  readonly api: apigwv2.HttpApi;
  /** Functions whose errors and throttles page someone. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Dead-letter queues by what lands in them; any message is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly fanoutTargets: elbv2.NetworkTargetGroup;
  readonly fanoutStreams: cloudwatch.IMetric;
  /** @default no subscription (the topic is there to subscribe to) */
  readonly alarmEmail?: string;
  /** Refresh lag (event time → cache applied) that is too slow, p99 over 5 minutes. @default 10 s */
  readonly refreshLagThreshold?: Duration;
}

/**
 * The alarms that say the service is failing its promises — an event not applied (DLQ depth),
 * functions failing or throttled, the cache falling behind (refresh lag), the API answering 5xx,
 * fanout tasks unhealthy — on one topic, and one dashboard with the same signals side by side.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    // No SSE: notifications carry alarm names and states only, and CloudWatch cannot publish to a
    // topic under the aws/sns key (a customer key would cost more than the data is worth).
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `${props.name} alarms`, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const fiveMinutes = Duration.minutes(5);

    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string, evaluationPeriods = 1) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    for (const [what, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${what}DeadLetters`,
        queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
        1,
        `${what}: change events are waiting in a dead-letter queue (the cache may be stale for them); redrive after fixing the cause.`,
      );
    }
    for (const [what, fn] of Object.entries(props.functions)) {
      alarm(`${what}Errors`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), 1, `${what}: invocations failed.`);
      alarm(`${what}Throttles`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), 1, `${what}: invocations were throttled.`);
    }
    const refreshLag = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'RefreshLagMs',
      dimensionsMap: { service: 'cache-refresh' },
      statistic: 'p99',
      period: fiveMinutes,
      unit: cloudwatch.Unit.MILLISECONDS,
    });
    alarm(
      'RefreshLag',
      refreshLag,
      (props.refreshLagThreshold ?? Duration.seconds(10)).toMilliseconds(),
      'The cache applies changes late: p99 from change to cache is over the threshold.',
      2,
    );
    const api5xx = props.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' });
    alarm('Api5xx', api5xx, 5, 'The HTTP API answered 5xx (function failures or the integration).');
    const unhealthy = props.fanoutTargets.metrics.unHealthyHostCount({ period: Duration.minutes(1), statistic: 'Maximum' });
    alarm('FanoutUnhealthyHosts', unhealthy, 1, 'Fanout tasks fail their load balancer health check.', 3);
    const healthy = props.fanoutTargets.metrics.healthyHostCount({ period: Duration.minutes(1), statistic: 'Minimum' });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.name,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'HTTP API',
        left: [
          props.api.metricCount({ period: Duration.minutes(1) }),
          props.api.metricClientError({ period: Duration.minutes(1) }),
          props.api.metricServerError({ period: Duration.minutes(1) }),
        ],
        right: [props.api.metricLatency({ period: Duration.minutes(1), statistic: 'p99' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cache refresh lag (ms)',
        left: [refreshLag.with({ period: Duration.minutes(1) }), refreshLag.with({ period: Duration.minutes(1), statistic: 'p50' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        left: Object.values(props.functions).map((fn) => fn.metricErrors({ period: Duration.minutes(1) })),
        right: Object.values(props.functions).map((fn) => fn.metricThrottles({ period: Duration.minutes(1) })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: Object.values(props.deadLetterQueues).map((q) =>
          q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Fanout targets', left: [healthy, unhealthy], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Fanout open streams (avg per task)', left: [props.fanoutStreams], width: 12 }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
