import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';

/**
 * A Secrets Manager secret as the runtime reads it: once at start, through Parameter Store's
 * reference `/aws/reference/secretsmanager/<name>` (Powertools `getParameter`, over the SSM
 * endpoint). The name is fixed (no random suffix), so the reference is known at synth.
 */
export class SecretReference {
  constructor(
    readonly secret: secretsmanager.ISecret,
    readonly secretName: string,
  ) {}

  /** What goes in the `*_PARAMETER` variable. */
  get parameterName(): string {
    return `/aws/reference/secretsmanager/${this.secretName}`;
  }

  /** GetParameter on the reference (in the grantee's stack) and GetSecretValue on this secret only. */
  grantRead(scope: IConstruct, role: iam.IRole, sid: string): void {
    const stack = Stack.of(scope);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${sid}Reference`,
        actions: ['ssm:GetParameter'],
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.parameterName.slice(1) })],
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [this.secret.secretArn] }));
  }
}
