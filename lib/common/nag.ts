import { Stack, Token, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** The IAM5 finding for a statement on `Resource: "*"`. */
export const WILDCARD_RESOURCE = 'AwsSolutions-IAM5[Resource::*]';

/**
 * Acknowledges a cdk-nag finding on one construct (and its children), with the reason kept
 * next to the resource it excuses. `id` is a rule (`AwsSolutions-SQS3`) or one finding of a
 * rule (`AwsSolutions-IAM5[Resource::*]`): findings are matched exactly, so acknowledging one
 * wildcard never hides another.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges the IAM5 finding for one wildcard resource ARN, named the way cdk-nag names it
 * (its own flattening of the resolved ARN). Only for ARNs built in the scope's own stack: a
 * reference to another stack's resource resolves differently once it becomes an import.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const flat = flattenCfnReference(Stack.of(scope).resolve(resourceArn));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}

/**
 * Acknowledges EC23 on a security group whose ingress comes from the VPC's own CIDR when that
 * CIDR is a deploy-time value (a brought VPC's `vpcCidrBlock`): cdk-nag cannot resolve it and
 * reports it as if it were open. A literal CIDR needs no acknowledgement and gets none.
 */
export function acknowledgeVpcCidrIngress(group: IConstruct, cidr: string): void {
  if (!Token.isUnresolved(cidr)) return;
  acknowledge(
    group,
    'AwsSolutions-EC23',
    "Ingress only from the VPC's own CIDR block (resolved at deploy time, so cdk-nag cannot read it at synth); never 0.0.0.0/0.",
  );
}
