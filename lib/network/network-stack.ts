import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import { ConfigNetwork } from './config-network';

export interface NetworkStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The VPC every other stack runs in. Stateless: it can be replaced with the service stack. */
export class NetworkStack extends Stack {
  readonly network: ConfigNetwork;

  get vpc(): ec2.IVpc {
    return this.network.vpc;
  }

  get vpcCidr(): string {
    return this.network.cidr;
  }

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    this.network = new ConfigNetwork(this, 'Network', {
      natGateways: props.config.natGateways,
      flowLogRetention: props.config.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
    });
  }
}
