import { Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { acknowledge, WILDCARD_RESOURCE } from './nag';

/** The AWS-managed prefix list of the addresses CloudFront connects to origins from. */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';

/**
 * The id (`pl-…`) of {@link CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST} in the stack's region, read at
 * deploy time: the id differs per region, and a context lookup would need a pinned account and
 * region, which the stacks do not require. One lookup per stack.
 */
export function cloudFrontOriginFacingPrefixList(scope: Construct): string {
  const stack = Stack.of(scope);
  const id = 'CloudFrontOriginFacingPrefixList';
  const existing = stack.node.tryFindChild(id) as cr.AwsCustomResource | undefined;
  if (existing) return existing.getResponseField('PrefixLists.0.PrefixListId');
  const lookup = new cr.AwsCustomResource(stack, id, {
    onUpdate: {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST] }] },
      physicalResourceId: cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    },
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
    installLatestAwsSdk: false,
  });
  acknowledge(lookup, WILDCARD_RESOURCE, 'ec2:DescribeManagedPrefixLists supports no resource-level permission; it reads metadata only.');
  acknowledgeLookupHandler(stack);
  return lookup.getResponseField('PrefixLists.0.PrefixListId');
}

/** AwsCustomResource's handler is one Lambda per stack that CDK writes and pins: acknowledged there. */
function acknowledgeLookupHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!handler) return;
  acknowledge(
    handler,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's AwsCustomResource handler writes its own logs with the basic execution role.",
  );
}
