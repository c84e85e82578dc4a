import { Tags, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageConfig } from './config/stage-config';
import type { TagRegistryDocument } from './config/tag-registry-data';
import { DataStack } from './data/data-stack';
import { NetworkStack } from './network/network-stack';
import { ServiceStack } from './service/service-stack';

export interface TenantConfigStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly service: ServiceStack;
}

export interface TenantConfigAppOptions {
  /** @default registry/tags.json */
  readonly tagRegistry?: TagRegistryDocument;
  /** @default registry/event-patterns.json */
  readonly eventPatterns?: unknown;
  /** @default 'fanout/Dockerfile' */
  readonly fanoutDockerfile?: string;
  /** Register cdk-nag's AwsSolutions pack, so synth fails on an unacknowledged finding. @default true */
  readonly nag?: boolean;
}

/**
 * CDK can tag these, but cfn-lint's resource schemas (1.51) have no `Tags` on them yet and fail
 * the template (E3002); they stay untagged until it does.
 */
const UNTAGGED_RESOURCE_TYPES = ['AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::ElasticLoadBalancingV2::Listener', 'AWS::CloudWatch::Dashboard'];

/** `TenantConfig-<stage>-Network`, … */
export const stackName = (config: Pick<StageConfig, 'stage'>, part: 'Network' | 'Data' | 'Service'): string => `TenantConfig-${config.stage}-${part}`;

/**
 * The three stacks of one stage, tagged, with cdk-nag watching. Environment-agnostic unless the
 * config names an account or region, so `cdk synth` needs no credentials. Built from the parts
 * of the construct library (lib/index.ts) that `TenantConfigService` puts in one stack:
 * `ConfigNetwork`, `TenantConfigData` and `TenantConfigRuntime` (docs/embedding.md).
 */
export function createTenantConfigApp(app: App, config: StageConfig, options: TenantConfigAppOptions = {}): TenantConfigStacks {
  const env: Environment | undefined = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const common = { env };

  const network = new NetworkStack(app, stackName(config, 'Network'), {
    ...common,
    description: `Tenant config service (${config.stage}): VPC and endpoints`,
    config,
  });
  const data = new DataStack(app, stackName(config, 'Data'), {
    ...common,
    description: `Tenant config service (${config.stage}): tenant table, parameters, cache, user pool (stateful)`,
    config,
    vpc: network.vpc,
  });
  const service = new ServiceStack(app, stackName(config, 'Service'), {
    ...common,
    description: `Tenant config service (${config.stage}): API, change routing, fanout, alarms`,
    config,
    network,
    data,
    tagRegistry: options.tagRegistry,
    eventPatterns: options.eventPatterns,
    fanoutDockerfile: options.fanoutDockerfile,
  });

  for (const [key, value] of Object.entries({ project: 'tenant-config', stage: config.stage })) {
    Tags.of(app).add(key, value, { excludeResourceTypes: UNTAGGED_RESOURCE_TYPES });
  }
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { network, data, service };
}
