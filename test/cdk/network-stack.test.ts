import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readStageConfig } from '../../lib/config/stage-config';
import { NetworkStack } from '../../lib/network/network-stack';
import { resourcesOf, snapshotOf, synthesize, type Synthesized } from './support/synth';

describe('network stack', () => {
  let dev: Synthesized;
  let prod: { templates: { network: Template } };

  beforeAll(() => {
    dev = synthesize();
    // The network stack stands alone: the production variant needs no functions or images.
    const config = readStageConfig((key) => ({ stage: 'prod' })[key as 'stage']);
    prod = { templates: { network: Template.fromStack(new NetworkStack(new App(), 'Network', { config })) } };
  });

  it('has public, private-with-egress and isolated subnets in two AZs', () => {
    const subnets = resourcesOf(dev.templates.network, 'AWS::EC2::Subnet');
    const kinds = subnets.map(([, s]) => (s.Properties?.Tags as Array<{ Key: string; Value: string }>).find((t) => t.Key === 'aws-cdk:subnet-type')?.Value);
    expect(kinds.sort()).toEqual(['Isolated', 'Isolated', 'Private', 'Private', 'Public', 'Public']);
  });

  it('routes DynamoDB and S3 through free gateway endpoints', () => {
    for (const service of ['dynamodb', 's3']) {
      dev.templates.network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`.${service}`])] }),
      });
    }
  });

  it('gives the isolated subnets two private-DNS interface endpoints, SSM (secrets are read through its references) and CloudWatch monitoring (alarm states), reachable from the VPC only', () => {
    const interfaces = resourcesOf(dev.templates.network, 'AWS::EC2::VPCEndpoint').filter(([, e]) => e.Properties?.VpcEndpointType === 'Interface');
    expect(interfaces).toHaveLength(2);
    for (const service of ['.ssm', '.monitoring']) {
      dev.templates.network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([service])] }),
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('isolatedSubnet') }]),
      });
    }
    const endpointGroups = resourcesOf(dev.templates.network, 'AWS::EC2::SecurityGroup').filter(([id]) => id.includes('Endpoint'));
    expect(endpointGroups).toHaveLength(2);
    for (const [, group] of endpointGroups) {
      expect(group.Properties?.SecurityGroupIngress).toEqual([
        expect.objectContaining({ CidrIp: '10.40.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
      ]);
    }
  });

  it('has NAT for the fanout egress: one in dev, one per AZ in production', () => {
    dev.templates.network.resourceCountIs('AWS::EC2::NatGateway', 1);
    prod.templates.network.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('records flow logs of all traffic to CloudWatch Logs with a retention', () => {
    dev.templates.network.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    dev.templates.network.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    prod.templates.network.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('is environment-agnostic by default', () => {
    expect(dev.stacks.network.environment).toBe('aws://unknown-account/unknown-region');
  });

  it('matches the reviewed snapshot', () => {
    expect(snapshotOf(dev.templates.network)).toMatchSnapshot();
  });
});
