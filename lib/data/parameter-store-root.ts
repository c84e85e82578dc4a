import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

export interface ParameterStoreRootProps {
  /** First path level, e.g. `tenant-config`. */
  readonly root: string;
  readonly stage: string;
  /** Alias of the SecureString key. */
  readonly keyAlias: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The stage's Parameter Store hierarchy `/<root>/<stage>/`: tenants' parameters live under
 * `tenants/<tenantId>/<tag>/<name>` (written by the config-api, not by CloudFormation), secret
 * tags as SecureString under this construct's customer-managed key. A marker parameter outside
 * the tenants subtree records the layout, so an operator (or a script) finds it from the root.
 */
export class ParameterStoreRoot extends Construct {
  readonly key: kms.Key;
  /** `/<root>/<stage>/tenants/` with both slashes: the prefix the Parameter Store rule filters on. */
  readonly tenantsPath: string;
  readonly root: string;
  readonly stage: string;

  constructor(scope: Construct, id: string, props: ParameterStoreRootProps) {
    super(scope, id);
    this.root = props.root;
    this.stage = props.stage;
    this.tenantsPath = `/${props.root}/${props.stage}/tenants/`;
    this.key = new kms.Key(this, 'SecureStringKey', {
      description: `SecureString parameters of secret tags under ${this.tenantsPath}`,
      alias: props.keyAlias,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    new ssm.StringParameter(this, 'Layout', {
      parameterName: `/${props.root}/${props.stage}/layout`,
      description: 'Where this stage keeps tenant configuration in Parameter Store',
      stringValue: JSON.stringify({
        tenantsPath: this.tenantsPath,
        parameterName: `${this.tenantsPath}<tenantId>/<tag>/<name>`,
        secureStringKey: props.keyAlias,
      }),
      tier: ssm.ParameterTier.STANDARD,
    });
  }

  /** `arn:…:parameter/<root>/<stage>/tenants/*`: every tenant parameter of this stage, nothing else. */
  tenantParametersArn(scope: Construct): string {
    return Stack.of(scope).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${this.tenantsPath.slice(1)}*`,
    });
  }
}
