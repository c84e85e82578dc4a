import { Duration, Fn, IgnoreMode, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { cloudFrontOriginFacingPrefixList } from '../common/cloudfront-prefix-list';
import { acknowledge, acknowledgeVpcCidrIngress, WILDCARD_RESOURCE } from '../common/nag';
import { METRICS_NAMESPACE, PROJECT_ROOT } from '../common/service-function';
import type { CacheConnection } from './cache-connection';
import type { StoreAccess } from './store-access';

/** The gRPC port the fanout listens on (GRPC_PORT). */
export const FANOUT_GRPC_PORT = 50051;
/** The port of `GET /v1/events`, the Watch as server-sent events for browsers (EVENTS_PORT). */
export const FANOUT_EVENTS_PORT = 8081;
/** The events listener's port when the NLB terminates TLS (443 is the gRPC listener's). */
export const FANOUT_EVENTS_TLS_PORT = 8443;

/** An internal NLB listener (TCP, HTTP/1.1 inside) serving `GET /v1/events`, for a CloudFront VPC origin. */
export interface FanoutEventsVpcOrigin {
  readonly loadBalancer: elbv2.INetworkLoadBalancer;
  readonly port: number;
}

export interface FanoutServiceProps {
  /** `tenant-config-<stage>`. */
  readonly name: string;
  readonly stage: string;
  readonly ssmRoot: string;
  readonly tableName: string;
  /** Token issuer and accepted app clients; the fanout verifies tokens itself. */
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly tenantClaim: string;
  /** KMS key of SecureString parameters; set only when some tag is secret. */
  readonly parameterKeyId?: string;
  readonly storeAccess: StoreAccess;
  readonly cache: CacheConnection;
  readonly vpc: ec2.IVpc;
  /** The VPC's CIDR: who may reach an internal load balancer. */
  readonly vpcCidr: string;
  /** Where the tasks run; they need egress for the Cognito JWKS. */
  readonly taskSubnets: ec2.SubnetSelection;
  /**
   * A TLS listener on 443 (gRPC) and one on 8443 (events) with this certificate, and an
   * internet-facing NLB. @default TCP on 50051 and 8081, internal NLB
   */
  readonly certificateArn?: string;
  /**
   * Origins (`https://host[:port]`) whose pages may read the events endpoint (CORS), e.g. the
   * admin console's. The fanout refuses anything but plain origins at start. @default none
   */
  readonly eventsAllowedOrigins?: readonly string[];
  /**
   * Let a CloudFront distribution (the admin console's) read `GET /v1/events` through a VPC
   * origin: an internal NLB with a plain TCP events listener whose security group admits
   * CloudFront's origin-facing prefix list, exposed as {@link FanoutService.eventsVpcOrigin}.
   * Without a certificate that is the fanout's own internal NLB; with one, whose NLB is
   * internet-facing and has TLS listeners (VPC origins take neither), a second, internal NLB
   * for the events alone. @default false
   */
  readonly cloudFrontEvents?: boolean;
  /** Dockerfile, relative to the repository root. @default 'fanout/Dockerfile' */
  readonly dockerfile?: string;
  /** How long a task drains (sends `reconnect`, waits for streams to close) on SIGTERM. @default 20 s */
  readonly drain?: Duration;
  /** @default 2 */
  readonly minTasks?: number;
  /** @default 10 */
  readonly maxTasks?: number;
  /** Target average open Watch streams per task. @default 2000 */
  readonly streamsPerTask?: number;
  /** @default 60 (%) */
  readonly targetCpuPercent?: number;
  /** @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * OTLP/HTTP endpoint (e.g. an ADOT collector sidecar or a gateway) the fanout exports its spans
   * to, as `OTEL_EXPORTER_OTLP_ENDPOINT`; fanout/tracing.ts. @default none: no spans are made
   */
  readonly otlpEndpoint?: string;
}

/**
 * The gRPC Watch fanout on ECS Fargate (ARM64, Node.js 24 image built from the repository)
 * behind a Network Load Balancer. gRPC streams are long-lived HTTP/2 connections, so the NLB
 * (layer 4) passes them through untouched; with a certificate it terminates TLS (ALPN h2). A
 * second listener carries `GET /v1/events`, the same Watch as server-sent events for browsers
 * (HTTP/1.1; TLS on 8443 with the certificate).
 *
 * Zero-downtime: the deregistration delay is longer than the fanout's drain, so a task leaving
 * the target group keeps its streams until it has told every client to reconnect (with its
 * cursor) and they have; the container's stop timeout covers the same drain.
 */
export class FanoutService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  readonly listenerPort: number;
  /** The events endpoint's target group: HTTP health checks on `/healthz`. */
  readonly eventsTargetGroup: elbv2.NetworkTargetGroup;
  readonly eventsListenerPort: number;
  readonly taskSecurityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  /** With `cloudFrontEvents`: where a CloudFront VPC origin reaches the events (plain HTTP, inside the VPC). */
  readonly eventsVpcOrigin?: FanoutEventsVpcOrigin;

  constructor(scope: Construct, id: string, props: FanoutServiceProps) {
    super(scope, id);
    const drain = props.drain ?? Duration.seconds(20);
    const grace = drain.plus(Duration.seconds(10));
    if (grace.toSeconds() > 120) throw new Error('FanoutService: drain must leave room within the 120 s Fargate stop timeout');
    const minTasks = props.minTasks ?? 2;
    const maxTasks = props.maxTasks ?? 10;
    if (minTasks < 1 || maxTasks < minTasks) throw new Error(`FanoutService: need 1 <= minTasks (${minTasks}) <= maxTasks (${maxTasks})`);
    const tls = props.certificateArn !== undefined;
    this.listenerPort = tls ? 443 : FANOUT_GRPC_PORT;
    this.eventsListenerPort = tls ? FANOUT_EVENTS_TLS_PORT : FANOUT_EVENTS_PORT;
    const origins = props.eventsAllowedOrigins ?? [];
    // Unresolved tokens (a distribution's domain) are checked by the fanout at start instead.
    for (const origin of origins) {
      if (!Token.isUnresolved(origin) && !/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(origin)) {
        throw new Error(`FanoutService: eventsAllowedOrigins must be origins such as https://console.example.com, got '${origin}'`);
      }
    }

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryMiB ?? 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    // The context is the repository root (the fanout shares core/, adapters/ and proto/); its
    // .dockerignore allowlists what the build needs, so unrelated edits never change the image hash.
    const image = ecs.ContainerImage.fromAsset(PROJECT_ROOT, {
      file: props.dockerfile ?? 'fanout/Dockerfile',
      platform: Platform.LINUX_ARM64,
      ignoreMode: IgnoreMode.DOCKER,
    });
    taskDefinition.addContainer('fanout', {
      image,
      essential: true,
      readonlyRootFilesystem: true,
      portMappings: [
        { containerPort: FANOUT_GRPC_PORT, protocol: ecs.Protocol.TCP, name: 'grpc' },
        { containerPort: FANOUT_EVENTS_PORT, protocol: ecs.Protocol.TCP, name: 'events' },
      ],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'fanout', mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
      stopTimeout: grace,
      environment: {
        NODE_ENV: 'production',
        GRPC_PORT: String(FANOUT_GRPC_PORT),
        EVENTS_PORT: String(FANOUT_EVENTS_PORT),
        ...(origins.length > 0 ? { EVENTS_ALLOWED_ORIGINS: Fn.join(',', [...origins]) } : {}),
        TABLE_NAME: props.tableName,
        SSM_ROOT: props.ssmRoot,
        STAGE: props.stage,
        JWT_ISSUER: props.issuer,
        JWT_AUDIENCE: props.audience.join(','),
        TENANT_CLAIM: props.tenantClaim,
        DRAIN_DEADLINE_MS: String(drain.toMilliseconds()),
        FANOUT_METRICS: 'emf',
        ...(props.parameterKeyId ? { SSM_KMS_KEY_ID: props.parameterKeyId } : {}),
        POWERTOOLS_SERVICE_NAME: 'fanout',
        ...(props.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: props.otlpEndpoint, OTEL_SERVICE_NAME: 'tenant-config-fanout' } : {}),
        ...props.cache.environment(),
      },
    });
    acknowledge(
      taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds names and endpoints only (table, parameter root, issuer, cache host); the cache password is read at start through the task role, never put in the task definition.',
    );
    props.storeAccess.grant(taskDefinition.taskRole, 'fanout');
    props.cache.grantReadCredentials(this, taskDefinition.taskRole);
    // ecr:GetAuthorizationToken (image pull) has no resource-level permissions.
    acknowledge(
      taskDefinition,
      WILDCARD_RESOURCE,
      'ecr:GetAuthorizationToken (execution role) supports no resource scoping; DescribeParameters (task role) returns metadata only.',
    );

    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerGroup', {
      vpc: props.vpc,
      description: tls ? 'Fanout NLB: gRPC and events over TLS from anywhere' : 'Fanout NLB: gRPC and events from inside the VPC',
      allowAllOutbound: false,
    });
    if (tls) {
      lbSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(this.listenerPort), 'gRPC over TLS (clients authenticate with a Cognito token)');
      lbSecurityGroup.addIngressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(this.eventsListenerPort),
        'Events (SSE) over TLS for browsers (Cognito token in the header)',
      );
      acknowledge(
        lbSecurityGroup,
        'AwsSolutions-EC23',
        'Public gRPC and events endpoints: TLS 1.2+ only, and every stream needs a valid Cognito access token.',
      );
    } else {
      lbSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(this.listenerPort), 'gRPC from the VPC');
      lbSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(this.eventsListenerPort), 'Events (SSE) from the VPC');
      acknowledgeVpcCidrIngress(lbSecurityGroup, props.vpcCidr);
    }
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskGroup', {
      vpc: props.vpc,
      description: 'Fanout tasks: gRPC and events from the NLB only',
      allowAllOutbound: true,
    });
    this.taskSecurityGroup.addIngressRule(lbSecurityGroup, ec2.Port.tcp(FANOUT_GRPC_PORT), 'gRPC and health checks from the NLB');
    lbSecurityGroup.addEgressRule(this.taskSecurityGroup, ec2.Port.tcp(FANOUT_GRPC_PORT), 'to the fanout tasks');
    this.taskSecurityGroup.addIngressRule(lbSecurityGroup, ec2.Port.tcp(FANOUT_EVENTS_PORT), 'events (SSE) and their health checks from the NLB');
    lbSecurityGroup.addEgressRule(this.taskSecurityGroup, ec2.Port.tcp(FANOUT_EVENTS_PORT), 'to the fanout tasks (events)');

    // CloudFront's VPC origin ENIs connect from the origin-facing prefix list's addresses, not the
    // VPC's: a group of its own (the prefix list weighs ~55 rules against the per-group quota).
    const originGroup = props.cloudFrontEvents
      ? new ec2.SecurityGroup(this, 'EventsOriginGroup', {
          vpc: props.vpc,
          description: 'Fanout events (SSE) from CloudFront VPC origins only',
          allowAllOutbound: false,
        })
      : undefined;
    if (originGroup) {
      originGroup.addIngressRule(
        ec2.Peer.prefixList(cloudFrontOriginFacingPrefixList(this)),
        ec2.Port.tcp(FANOUT_EVENTS_PORT),
        'Events (SSE) from CloudFront (the admin console distribution, VPC origin)',
      );
      originGroup.addEgressRule(this.taskSecurityGroup, ec2.Port.tcp(FANOUT_EVENTS_PORT), 'to the fanout tasks (events)');
      this.taskSecurityGroup.addIngressRule(
        originGroup,
        ec2.Port.tcp(FANOUT_EVENTS_PORT),
        'events (SSE) and their health checks from the CloudFront origin NLB',
      );
    }

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: props.taskSubnets,
      securityGroups: [this.taskSecurityGroup, props.cache.props.clientSecurityGroup],
      assignPublicIp: false,
      healthCheckGracePeriod: Duration.seconds(30),
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: tls,
      vpcSubnets: tls ? { subnetType: ec2.SubnetType.PUBLIC } : props.taskSubnets,
      // The origin group only where this NLB is the VPC origin (internal, TCP listeners).
      securityGroups: originGroup && !tls ? [lbSecurityGroup, originGroup] : [lbSecurityGroup],
      crossZoneEnabled: true,
    });
    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: FANOUT_GRPC_PORT,
      protocol: elbv2.Protocol.TCP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: grace,
      connectionTermination: false,
      healthCheck: {
        protocol: elbv2.Protocol.TCP,
        port: String(FANOUT_GRPC_PORT),
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    this.targetGroup.addTarget(this.service.loadBalancerTarget({ containerName: 'fanout', containerPort: FANOUT_GRPC_PORT }));
    // The events drain like the Watch (same service, same `reconnect`), so the same delay; the
    // health check asks /healthz, which turns 503 the moment a drain begins.
    const eventsTargets = (id: string): elbv2.NetworkTargetGroup => {
      const group = new elbv2.NetworkTargetGroup(this, id, {
        vpc: props.vpc,
        port: FANOUT_EVENTS_PORT,
        protocol: elbv2.Protocol.TCP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: grace,
        connectionTermination: false,
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          port: String(FANOUT_EVENTS_PORT),
          path: '/healthz',
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      group.addTarget(this.service.loadBalancerTarget({ containerName: 'fanout', containerPort: FANOUT_EVENTS_PORT }));
      return group;
    };
    this.eventsTargetGroup = eventsTargets('EventsTargets');
    if (tls) {
      this.loadBalancer.addListener('Tls', {
        port: 443,
        protocol: elbv2.Protocol.TLS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        // gRPC is HTTP/2: negotiate h2 at the TLS layer the NLB terminates.
        alpnPolicy: elbv2.AlpnPolicy.HTTP2_ONLY,
        defaultTargetGroups: [this.targetGroup],
      });
      this.loadBalancer.addListener('EventsTls', {
        port: FANOUT_EVENTS_TLS_PORT,
        protocol: elbv2.Protocol.TLS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        // The events server speaks HTTP/1.1 (server-sent events), which every browser negotiates.
        alpnPolicy: elbv2.AlpnPolicy.HTTP1_ONLY,
        defaultTargetGroups: [this.eventsTargetGroup],
      });
      const accessLogs = new s3.Bucket(this, 'AccessLogs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ expiration: Duration.days(90) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(accessLogs, 'AwsSolutions-S1', 'This bucket receives the NLB access logs; logging it to another bucket would only log the log delivery.');
      this.loadBalancer.logAccessLogs(accessLogs, 'fanout-nlb');
    } else {
      this.loadBalancer.addListener('Tcp', { port: FANOUT_GRPC_PORT, protocol: elbv2.Protocol.TCP, defaultTargetGroups: [this.targetGroup] });
      this.loadBalancer.addListener('EventsTcp', { port: FANOUT_EVENTS_PORT, protocol: elbv2.Protocol.TCP, defaultTargetGroups: [this.eventsTargetGroup] });
      acknowledge(
        this.loadBalancer,
        'AwsSolutions-ELB2',
        'NLB access logs are written only for TLS listeners; this stage has no certificate, so its internal listener is TCP.',
      );
    }

    if (originGroup && !tls) {
      this.eventsVpcOrigin = { loadBalancer: this.loadBalancer, port: FANOUT_EVENTS_PORT };
    } else if (originGroup) {
      // VPC origins refuse an NLB with TLS listeners and need it internal: a second one, TCP on the
      // events port only, in the tasks' private subnets, with its own target group (one NLB each).
      const originLoadBalancer = new elbv2.NetworkLoadBalancer(this, 'EventsOriginLoadBalancer', {
        vpc: props.vpc,
        internetFacing: false,
        vpcSubnets: props.taskSubnets,
        securityGroups: [originGroup],
        crossZoneEnabled: true,
      });
      originLoadBalancer.addListener('EventsTcp', {
        port: FANOUT_EVENTS_PORT,
        protocol: elbv2.Protocol.TCP,
        defaultTargetGroups: [eventsTargets('EventsOriginTargets')],
      });
      acknowledge(
        originLoadBalancer,
        'AwsSolutions-ELB2',
        'NLB access logs are written only for TLS listeners; this internal one is the console CloudFront VPC origin (TCP), whose requests CloudFront logs.',
      );
      this.eventsVpcOrigin = { loadBalancer: originLoadBalancer, port: FANOUT_EVENTS_PORT };
    }

    const scaling = this.service.autoScaleTaskCount({ minCapacity: minTasks, maxCapacity: maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.targetCpuPercent ?? 60,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    // Connections are the fanout's real load: each task publishes its open streams every minute.
    scaling.scaleToTrackCustomMetric('OpenStreams', {
      metric: this.openStreamsMetric(),
      targetValue: props.streamsPerTask ?? 2000,
      scaleInCooldown: Duration.minutes(10),
      scaleOutCooldown: Duration.minutes(1),
    });
  }

  /** Average open Watch streams per task (fanout's `StreamsOpen`, EMF). */
  openStreamsMetric(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'StreamsOpen',
      dimensionsMap: { service: 'fanout' },
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.minutes(1),
    });
  }

  /** The gRPC endpoint clients dial: `host:port`. */
  get endpoint(): string {
    return `${this.loadBalancer.loadBalancerDnsName}:${this.listenerPort}`;
  }

  /** The URL of `GET /v1/events` (https with a certificate; plain http inside the VPC otherwise). */
  get eventsEndpoint(): string {
    const scheme = this.listenerPort === 443 ? 'https' : 'http';
    return `${scheme}://${this.loadBalancer.loadBalancerDnsName}:${this.eventsListenerPort}/v1/events`;
  }
}
