import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import type { TagRegistryDocument } from '../config/tag-registry-data';
import type { DataStack } from '../data/data-stack';
import type { NetworkStack } from '../network/network-stack';
import type { ChangeEvents } from './change-events';
import type { ConfigApi } from './config-api';
import type { FanoutService } from './fanout-service';
import type { Monitoring } from './monitoring';
import type { StoreAccess } from './store-access';
import { TenantConfigRuntime } from './tenant-config-runtime';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
  readonly network: NetworkStack;
  readonly data: DataStack;
  /** The tag registry the grants and the Pipe filter derive from. @default registry/tags.json */
  readonly tagRegistry?: TagRegistryDocument;
  /** The change-event patterns. @default registry/event-patterns.json */
  readonly eventPatterns?: unknown;
  /** The fanout's Dockerfile, relative to the repository root. @default 'fanout/Dockerfile' */
  readonly fanoutDockerfile?: string;
}

/**
 * The stateless part: functions, API, change routing, fanout, alarms. It can be destroyed and
 * redeployed at will; it takes the data stack's resources as objects, never as names.
 */
export class ServiceStack extends Stack {
  readonly runtime: TenantConfigRuntime;

  get api(): ConfigApi {
    return this.runtime.api;
  }
  get changes(): ChangeEvents {
    return this.runtime.changes;
  }
  get fanout(): FanoutService {
    return this.runtime.fanout;
  }
  get monitoring(): Monitoring {
    return this.runtime.monitoring;
  }
  get storeAccess(): StoreAccess {
    return this.runtime.storeAccess;
  }

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    // `Default` adds nothing to logical ids: the resources keep the ids they had as direct children of the stack.
    this.runtime = new TenantConfigRuntime(this, 'Default', {
      config: props.config,
      data: props.data,
      vpc: props.network.vpc,
      vpcCidr: props.network.vpcCidr,
      tagRegistry: props.tagRegistry,
      eventPatterns: props.eventPatterns,
      fanoutDockerfile: props.fanoutDockerfile,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'FanoutEndpoint', { value: this.fanout.endpoint });
    new CfnOutput(this, 'EventsEndpoint', { value: this.fanout.eventsEndpoint });
  }
}
