import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeVpcCidrIngress } from '../common/nag';

export interface ConfigNetworkProps {
  /**
   * NAT gateways (one per AZ up to `maxAzs`). The fanout needs egress to the Cognito JWKS
   * URL, a public endpoint with no documented PrivateLink path (docs/design.md §2.3, §9).
   * @default 1
   */
  readonly natGateways?: number;
  /** @default 2 (an environment-agnostic stack gets at most 2 AZs anyway) */
  readonly maxAzs?: number;
  /**
   * Interface endpoints in the isolated subnets, for the Lambdas that have no route out.
   * @default DEFAULT_INTERFACE_ENDPOINTS
   */
  readonly interfaceEndpoints?: readonly ec2.InterfaceVpcEndpointAwsService[];
  /** @default RetentionDays.ONE_MONTH */
  readonly flowLogRetention?: logs.RetentionDays;
  /** @default '10.40.0.0/16' */
  readonly cidr?: string;
}

/**
 * What the functions in isolated subnets call besides the gateway services: SSM (Parameter
 * Store, and the secrets too, which the runtime reads through Parameter Store's
 * `/aws/reference/secretsmanager/…` references) and CloudWatch's `monitoring` API (the rollout
 * driver and the config-api read alarm states with DescribeAlarms).
 */
export const DEFAULT_INTERFACE_ENDPOINTS: readonly ec2.InterfaceVpcEndpointAwsService[] = [
  ec2.InterfaceVpcEndpointAwsService.SSM,
  ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
];

/**
 * The VPC and its paths to AWS services.
 *
 * - isolated subnets (no route out): Lambda ENIs, the cache, the interface endpoints;
 * - private subnets with NAT: the fanout tasks (they fetch the Cognito JWKS);
 * - public subnets: the NAT gateways and an internet-facing NLB when the fanout is public.
 *
 * Gateway endpoints (DynamoDB, S3) are free and keep table and image-layer traffic off NAT.
 */
export class ConfigNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** The VPC's CIDR as a literal (security group rules built from it stay readable, and checkable at synth). */
  readonly cidr: string;
  /** Lambdas, cache nodes and endpoint ENIs: no internet route. */
  readonly isolatedSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  /** Fanout tasks: egress through NAT. */
  readonly egressSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

  constructor(scope: Construct, id: string, props: ConfigNetworkProps = {}) {
    super(scope, id);
    const natGateways = props.natGateways ?? 1;
    this.cidr = props.cidr ?? '10.40.0.0/16';
    if (!Number.isInteger(natGateways) || natGateways < 1) {
      throw new Error(`ConfigNetwork: natGateways must be a positive integer (the fanout needs egress), got ${natGateways}`);
    }

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      // Flow logs are diagnostics, not data: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(this.cidr),
      maxAzs: props.maxAzs ?? 2,
      natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'fanout', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.ALL },
      },
    });

    const endpoints = props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS;
    for (const service of endpoints) {
      // Private DNS makes the regional service name resolve here for every subnet of the VPC.
      const endpoint = this.vpc.addInterfaceEndpoint(endpointId(service), {
        service,
        subnets: this.isolatedSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      endpoint.connections.allowFrom(ec2.Peer.ipv4(this.cidr), ec2.Port.tcp(443), 'HTTPS from inside the VPC');
    }
  }
}

/** `com.amazonaws.<region>.secretsmanager` → `SecretsmanagerEndpoint` (stable logical ids). */
function endpointId(service: ec2.InterfaceVpcEndpointAwsService): string {
  const short = service.shortName.replace(/[^A-Za-z0-9]/g, '');
  return `${short.charAt(0).toUpperCase()}${short.slice(1)}Endpoint`;
}

/** Where the parts of the service run in a VPC. */
export interface ServiceSubnets {
  /** The Lambdas, the cache and the interface endpoints: isolated subnets if the VPC has any, else private ones with egress. */
  readonly functions: ec2.SubnetSelection;
  /** The fanout tasks: they fetch the Cognito JWKS, so they need egress. */
  readonly fanout: ec2.SubnetSelection;
}

/**
 * Picks the subnets of a VPC of any layout: isolated subnets for everything that needs no route
 * out when the VPC has them (as {@link ConfigNetwork} builds it), otherwise the private subnets
 * with egress for everything. A VPC without private subnets with egress fails synth: the fanout
 * could not fetch the JWKS, and public subnets would give its tasks public addresses.
 */
export function serviceSubnetsOf(vpc: ec2.IVpc): ServiceSubnets {
  if (vpc.privateSubnets.length === 0) {
    throw new Error(
      'TenantConfigService: the VPC needs private subnets with egress (NAT or another route out) for the fanout, which fetches the Cognito JWKS; it has none',
    );
  }
  const egress: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  return {
    functions: vpc.isolatedSubnets.length > 0 ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : egress,
    fanout: egress,
  };
}

export interface ConfigVpcEndpointsProps {
  readonly vpc: ec2.IVpc;
  /** The VPC's CIDR: HTTPS to the interface endpoints is admitted from it. @default vpc.vpcCidrBlock */
  readonly cidr?: string;
  /** Subnets of the interface endpoints' network interfaces. @default serviceSubnetsOf(vpc).functions */
  readonly subnets?: ec2.SubnetSelection;
  /** @default DEFAULT_INTERFACE_ENDPOINTS, as {@link ConfigNetworkProps.interfaceEndpoints} */
  readonly interfaceEndpoints?: readonly ec2.InterfaceVpcEndpointAwsService[];
  /** Add the DynamoDB and S3 gateway endpoints. Turn off if the VPC already has them (a route table takes one per service). @default true */
  readonly gatewayEndpoints?: boolean;
}

/**
 * The endpoints the service needs, added to a VPC it did not build: gateway endpoints for
 * DynamoDB and S3 (free; table traffic and image layers stay off the NAT) and the interface
 * endpoints functions in isolated subnets need (DEFAULT_INTERFACE_ENDPOINTS).
 */
export class ConfigVpcEndpoints extends Construct {
  constructor(scope: Construct, id: string, props: ConfigVpcEndpointsProps) {
    super(scope, id);
    const { vpc } = props;
    if (props.gatewayEndpoints ?? true) {
      new ec2.GatewayVpcEndpoint(this, 'DynamoDb', { vpc, service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
      new ec2.GatewayVpcEndpoint(this, 'S3', { vpc, service: ec2.GatewayVpcEndpointAwsService.S3 });
    }
    const subnets = props.subnets ?? serviceSubnetsOf(vpc).functions;
    for (const service of props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, endpointId(service), { vpc, service, subnets, privateDnsEnabled: true, open: false });
      const cidr = props.cidr ?? vpc.vpcCidrBlock;
      endpoint.connections.allowFrom(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from inside the VPC');
      acknowledgeVpcCidrIngress(endpoint, cidr);
    }
  }
}
