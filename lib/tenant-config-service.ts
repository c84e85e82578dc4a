import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { readStageConfig, type StageConfig } from './config/stage-config';
import type { ServiceClientSpec } from './config/principals-data';
import type { TagRegistryDocument } from './config/tag-registry-data';
import { TenantConfigData } from './data/tenant-config-data';
import { ConfigNetwork, ConfigVpcEndpoints, serviceSubnetsOf, type ServiceSubnets } from './network/config-network';
import { TenantConfigRuntime } from './service/tenant-config-runtime';

export interface TenantConfigServiceProps {
  /** 1–16 lower-case letters, digits or single hyphens; names every resource (`tenant-config-<stage>`). */
  readonly stage: string;
  /**
   * A VPC of the embedding app, of any subnet layout: functions and cache go to its isolated
   * subnets if it has some, else to its private subnets with egress; the fanout always to the
   * latter (it needs egress for the Cognito JWKS). The endpoints the functions need are added
   * (see `vpcEndpoints`).
   * @default a VPC of its own (ConfigNetwork: public, private with NAT and isolated subnets in 2 AZs)
   */
  readonly vpc?: ec2.IVpc;
  /** The brought VPC's CIDR as a literal, for security group rules readable at synth. @default vpc.vpcCidrBlock */
  readonly vpcCidr?: string;
  /**
   * Add the DynamoDB and S3 gateway endpoints and the SSM interface endpoint to the brought `vpc`.
   * Turn off when the VPC has them already: a route table takes one gateway endpoint per service,
   * and a second SSM endpoint with private DNS would clash with the first.
   * @default true (only read with `vpc`)
   */
  readonly vpcEndpoints?: boolean;
  /**
   * A user pool of the embedding app. Created in it: the resource server `tenant-config`, the
   * user app client, one client-credentials client per service, the groups `config-admins` and
   * `platform-operators`, and a domain if `authDomainPrefix` is set. Expected of it: the
   * immutable custom attribute `tenant_id`, the Essentials plan, and `users.preTokenGeneration`
   * attached as its V2 pre-token-generation trigger (docs/embedding.md).
   * @default a user pool of its own
   */
  readonly userPool?: cognito.IUserPool;
  /** First Parameter Store level. @default 'tenant-config' */
  readonly ssmRoot?: string;
  /** MFA required, NAT per AZ, 1-year log retention, 7-day cache snapshots. @default stage === 'prod' */
  readonly production?: boolean;
  /** NAT gateways of its own VPC. @default 1 (2 in production) */
  readonly natGateways?: number;
  /** ACM certificate (same region): a TLS fanout listener and the API custom domain. @default none */
  readonly certificateArn?: string;
  /** API custom domain; needs `certificateArn`. @default none */
  readonly domainName?: string;
  /** Subscribed to the alarm topic. @default none */
  readonly alarmEmail?: string;
  /** Consuming services, each given a client-credentials app client. @default none */
  readonly services?: readonly ServiceClientSpec[];
  /** Prefix of the Cognito domain of the token endpoint. @default `tenant-config-<stage>-<account id>` with its own pool, no domain with a brought one */
  readonly authDomainPrefix?: string;
  /** Reads and writes need the tenant to be registered. @default false */
  readonly requireTenantRegistration?: boolean;
  /** @default registry/tags.json */
  readonly tagRegistry?: TagRegistryDocument;
  /** @default registry/event-patterns.json */
  readonly eventPatterns?: unknown;
  /** The fanout's Dockerfile, relative to this repository's root. @default 'fanout/Dockerfile' */
  readonly fanoutDockerfile?: string;
  /** OTLP/HTTP endpoint for the fanout's spans. @default none (the fanout makes no spans) */
  readonly otlpEndpoint?: string;
}

/**
 * The whole tenant config service as one construct, for embedding in another CDK app: network
 * (its own VPC, or endpoints in a brought one), the stateful part (table, parameters, cache,
 * user pool or what it needs in a brought one) and the stateless part (API, change routing,
 * fanout, alarms), in the construct's stack. Props are checked first, as `cdk synth -c` context
 * is: a bad value fails synth with its name. This repository's own app builds the same parts in
 * three stacks (lib/tenant-config-app.ts).
 */
export class TenantConfigService extends Construct {
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ServiceSubnets;
  /** Its own VPC; absent with a brought one. */
  readonly network?: ConfigNetwork;
  /** The endpoints added to a brought VPC; absent otherwise, or with `vpcEndpoints: false`. */
  readonly endpoints?: ConfigVpcEndpoints;
  readonly data: TenantConfigData;
  readonly runtime: TenantConfigRuntime;

  constructor(scope: Construct, id: string, props: TenantConfigServiceProps) {
    super(scope, id);
    this.config = readStageConfig((key) => (props as unknown as Record<string, unknown>)[key]);

    if (props.vpc) {
      this.vpc = props.vpc;
      this.subnets = serviceSubnetsOf(props.vpc);
      if (props.vpcEndpoints ?? true)
        this.endpoints = new ConfigVpcEndpoints(this, 'Endpoints', { vpc: props.vpc, cidr: props.vpcCidr, subnets: this.subnets.functions });
    } else {
      this.network = new ConfigNetwork(this, 'Network', {
        natGateways: this.config.natGateways,
        flowLogRetention: this.config.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      });
      this.vpc = this.network.vpc;
      this.subnets = serviceSubnetsOf(this.vpc);
    }

    this.data = new TenantConfigData(this, 'Data', { config: this.config, vpc: this.vpc, cacheSubnets: this.subnets.functions, userPool: props.userPool });
    this.runtime = new TenantConfigRuntime(this, 'Runtime', {
      config: this.config,
      data: this.data,
      vpc: this.vpc,
      vpcCidr: this.network?.cidr ?? props.vpcCidr,
      subnets: this.subnets,
      tagRegistry: props.tagRegistry,
      eventPatterns: props.eventPatterns,
      fanoutDockerfile: props.fanoutDockerfile,
      otlpEndpoint: props.otlpEndpoint,
    });
    // Interface endpoints first: the functions read Parameter Store at their first start.
    if (this.endpoints) this.runtime.node.addDependency(this.endpoints);
  }

  /** The HTTP API's base URL. */
  get apiUrl(): string {
    return this.runtime.api.url;
  }

  /** `host:port` of the fanout's load balancer. */
  get fanoutEndpoint(): string {
    return this.runtime.fanout.endpoint;
  }

  /** The URL of `GET /v1/events` (the Watch as server-sent events) on the fanout's load balancer. */
  get eventsEndpoint(): string {
    return this.runtime.fanout.eventsEndpoint;
  }
}
