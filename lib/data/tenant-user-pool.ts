import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../common/nag';
import { ServiceFunction } from '../common/service-function';

/** The custom attribute holding a user's tenant (`custom:tenant_id` in Cognito's API). */
export const TENANT_ATTRIBUTE = 'tenant_id';
/** The access-token claim the pre-token-generation trigger writes, and the runtime reads (TENANT_CLAIM). */
export const TENANT_CLAIM = 'tenant_id';
/** Members may write configuration (ADMIN_GROUP). */
export const ADMIN_GROUP = 'config-admins';

export interface TenantUserPoolProps {
  /** `tenant-config-<stage>`. */
  readonly name: string;
  /** MFA required (TOTP) rather than optional. @default false */
  readonly requireMfa?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Who may call the service, and for which tenant. The tenant is a custom attribute set once,
 * by an administrator, when the user is created: it is immutable, self sign-up is off, and the
 * app client may read it but never write it (the seed sample let users rewrite their own role).
 * A pre-token-generation (V2) trigger copies it into the *access* token as `tenant_id`, the one
 * claim the API and the fanout trust.
 */
export class TenantUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly adminGroup: cognito.UserPoolGroup;
  readonly preTokenGeneration: ServiceFunction;

  constructor(scope: Construct, id: string, props: TenantUserPoolProps) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: props.name,
      // V2 trigger events (access-token customisation) need the Essentials plan or above.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        [TENANT_ATTRIBUTE]: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
      },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: props.requireMfa ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (!props.requireMfa) {
      acknowledge(this.userPool, 'AwsSolutions-COG2', 'Non-production stage: TOTP MFA is optional so test users can sign in from scripts; production stages require it.');
    }
    acknowledge(
      this.userPool,
      'AwsSolutions-COG8',
      'Essentials plan: it has the access-token customisation the tenant claim needs; threat protection (Plus) is a per-MAU cost left to the operator.',
    );

    this.adminGroup = new cognito.UserPoolGroup(this, 'AdminGroup', {
      userPool: this.userPool,
      groupName: ADMIN_GROUP,
      description: 'May write and delete configuration of their own tenant',
    });

    const writable = new cognito.ClientAttributes().withStandardAttributes({ email: true });
    this.client = this.userPool.addClient('ServiceClient', {
      userPoolClientName: `${props.name}-service`,
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(60),
      idTokenValidity: Duration.minutes(60),
      refreshTokenValidity: Duration.days(30),
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }).withCustomAttributes(TENANT_ATTRIBUTE),
      // Listed explicitly: with no list every writable attribute is writable, and the tenant must never be.
      writeAttributes: writable,
    });

    this.preTokenGeneration = new ServiceFunction(this, 'PreTokenGeneration', {
      entry: 'lambda/pre-token-generation/handler.ts',
      description: 'Copies custom:tenant_id into the access token as tenant_id',
      serviceName: 'pre-token-generation',
      memorySize: 256,
      timeout: Duration.seconds(5),
      logRetention: props.logRetention,
      environment: { TENANT_ATTRIBUTE: `custom:${TENANT_ATTRIBUTE}`, TENANT_CLAIM },
    });
    this.userPool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, this.preTokenGeneration.function, cognito.LambdaVersion.V2_0);
  }

  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`: the `iss` of every token. */
  get issuer(): string {
    return `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${this.userPool.userPoolId}`;
  }
}
