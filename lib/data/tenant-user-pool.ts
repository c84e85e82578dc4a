import { Aws, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../common/nag';
import { ServiceFunction } from '../common/service-function';
import { PRINCIPALS, servicePascalName, validateServiceClients, type ServiceClientSpec, type ServiceScopeName } from '../config/principals-data';
import { DOMAIN_PREFIX_PATTERN } from '../config/stage-config';

/** The custom attribute holding a user's tenant (`custom:tenant_id` in Cognito's API). */
export const TENANT_ATTRIBUTE = 'tenant_id';
/** The access-token claim the pre-token-generation trigger writes, and the runtime reads (TENANT_CLAIM). */
export const TENANT_CLAIM = 'tenant_id';
/** Members may write configuration of their own tenant (ADMIN_GROUP). */
export const ADMIN_GROUP = PRINCIPALS.groups.tenantAdmin;
/** Members act across tenants: the platform team. */
export const OPERATOR_GROUP = PRINCIPALS.groups.operator;

export interface TenantUserPoolProps {
  /** `tenant-config-<stage>`. */
  readonly name: string;
  /**
   * A pool of the embedding app instead of one of its own. Inside it the construct creates the
   * resource server, the app clients and the two groups (names must be free), and a domain only
   * if `domainPrefix` is given (a pool has at most one); the pool's own settings stay with its
   * owner: the immutable `custom:tenant_id` attribute, the Essentials plan and attaching
   * {@link TenantUserPool.preTokenGeneration} as its V2 pre-token-generation trigger (docs/embedding.md).
   * `requireMfa`, `removalPolicy` then do not apply.
   * @default a pool of its own
   */
  readonly userPool?: cognito.IUserPool;
  /** MFA required (TOTP) rather than optional. @default false */
  readonly requireMfa?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Consuming services, each given its own client-credentials app client limited to the scopes
   * listed. Checked before anything is built: a bad name or an unknown scope fails synth.
   * @default []
   */
  readonly services?: readonly ServiceClientSpec[];
  /**
   * Prefix of the Cognito domain that serves the token endpoint
   * (`https://<prefix>.auth.<region>.amazoncognito.com/oauth2/token`). Prefixes are unique per
   * region across all accounts, hence the account id in the default.
   * @default `<name>-<account id>` for a pool of its own; no domain in a brought pool
   */
  readonly domainPrefix?: string;
}

/** A consuming service's app client and what it may ask for. */
export interface ServiceClient {
  readonly name: string;
  readonly scopes: readonly ServiceScopeName[];
  readonly client: cognito.UserPoolClient;
}

/**
 * Who may call the service, and for which tenant. The tenant is a custom attribute set once,
 * by an administrator, when the user is created: it is immutable, self sign-up is off, and the
 * app client may read it but never write it (the seed sample let users rewrite their own role).
 * A pre-token-generation (V2) trigger copies it into the *access* token as `tenant_id`, the one
 * claim the API and the fanout trust.
 *
 * Machines get no users: each consuming service has its own app client with a secret and the
 * client-credentials flow only, limited to the resource-server scopes it was given. Its tokens
 * carry `client_id` and `scope` but no tenant and no `username`, which is how the runtime knows
 * a service.
 */
export class TenantUserPool extends Construct {
  readonly userPool: cognito.IUserPool;
  /** Whether the pool is the embedding app's (`userPool` prop) rather than this construct's. */
  readonly brought: boolean;
  /** The app client people sign in with (tenant users and operators). */
  readonly client: cognito.UserPoolClient;
  readonly adminGroup: cognito.UserPoolGroup;
  readonly operatorGroup: cognito.UserPoolGroup;
  readonly resourceServer: cognito.UserPoolResourceServer;
  /** Serves the OAuth token endpoint that client-credentials grants need; absent in a brought pool without `domainPrefix`. */
  readonly domain?: cognito.UserPoolDomain;
  /** One per consuming service, in the order given. */
  readonly serviceClients: readonly ServiceClient[];
  readonly preTokenGeneration: ServiceFunction;

  constructor(scope: Construct, id: string, props: TenantUserPoolProps) {
    super(scope, id);
    const services = validateServiceClients(props.services ?? []);
    this.brought = props.userPool !== undefined;
    const domainPrefix = props.domainPrefix ?? (this.brought ? undefined : `${props.name}-${Aws.ACCOUNT_ID}`);
    // The default's literal part is checked in place of the whole (the account id is digits).
    const checked = domainPrefix === undefined ? undefined : Token.isUnresolved(domainPrefix) ? props.name : domainPrefix;
    if (checked !== undefined && !DOMAIN_PREFIX_PATTERN.test(checked)) {
      throw new Error(
        `TenantUserPool: domain prefix '${checked}' must be 1-63 lower-case letters, digits or inner hyphens, without 'aws', 'amazon' or 'cognito'`,
      );
    }
    this.userPool = props.userPool ?? this.ownPool(props);

    this.adminGroup = new cognito.UserPoolGroup(this, 'AdminGroup', {
      userPool: this.userPool,
      groupName: ADMIN_GROUP,
      description: 'May write and delete configuration of their own tenant',
    });
    this.operatorGroup = new cognito.UserPoolGroup(this, 'OperatorGroup', {
      userPool: this.userPool,
      groupName: OPERATOR_GROUP,
      description: 'Platform team: read and write every tenant',
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

    const scopes = new Map(
      Object.values(PRINCIPALS.scopes).map((s) => [s.name, new cognito.ResourceServerScope({ scopeName: s.name, scopeDescription: s.description })]),
    );
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: PRINCIPALS.resourceServer.identifier,
      userPoolResourceServerName: PRINCIPALS.resourceServer.name,
      scopes: [...scopes.values()],
    });
    this.domain = domainPrefix === undefined ? undefined : this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });

    this.serviceClients = services.map((service) => ({
      ...service,
      client: this.userPool.addClient(`Service${servicePascalName(service.name)}Client`, {
        userPoolClientName: `${props.name}-svc-${service.name}`,
        generateSecret: true,
        // Only ALLOW_REFRESH_TOKEN_AUTH remains (a client-credentials grant issues no refresh
        // token); an empty list would give Cognito's defaults, SRP and custom auth included.
        authFlows: { userPassword: false, userSrp: false, custom: false, adminUserPassword: false },
        oAuth: {
          flows: { clientCredentials: true },
          scopes: service.scopes.map((name) => cognito.OAuthScope.resourceServer(this.resourceServer, scopes.get(name)!)),
        },
        accessTokenValidity: Duration.minutes(60),
        enableTokenRevocation: true,
      }),
    }));

    this.preTokenGeneration = new ServiceFunction(this, 'PreTokenGeneration', {
      entry: 'lambda/pre-token-generation/handler.ts',
      description: 'Copies custom:tenant_id into the access token as tenant_id',
      serviceName: 'pre-token-generation',
      memorySize: 256,
      timeout: Duration.seconds(5),
      logRetention: props.logRetention,
      environment: { TENANT_ATTRIBUTE: `custom:${TENANT_ATTRIBUTE}`, TENANT_CLAIM },
    });
    // V2_0, not V3_0: Cognito invokes a V2 trigger for user sign-ins only, so client-credentials
    // grants neither run nor pay for it (they have no tenant to add).
    if (this.userPool instanceof cognito.UserPool) {
      this.userPool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, this.preTokenGeneration.function, cognito.LambdaVersion.V2_0);
    } else {
      // A trigger is part of the pool's own resource: its owner attaches the function; Cognito may call it from now on.
      this.preTokenGeneration.function.addPermission('CognitoInvoke', {
        principal: new iam.ServicePrincipal('cognito-idp.amazonaws.com'),
        sourceArn: this.userPool.userPoolArn,
      });
    }
  }

  private ownPool(props: TenantUserPoolProps): cognito.UserPool {
    const pool = new cognito.UserPool(this, 'UserPool', {
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
      acknowledge(
        pool,
        'AwsSolutions-COG2',
        'Non-production stage: TOTP MFA is optional so test users can sign in from scripts; production stages require it.',
      );
    }
    acknowledge(
      pool,
      'AwsSolutions-COG8',
      'Essentials plan: it has the access-token customisation the tenant claim needs; threat protection (Plus) is a per-MAU cost left to the operator.',
    );

    return pool;
  }

  /** Every app client whose access tokens the service accepts (`client_id`): the user client, then each service's. */
  get acceptedClientIds(): string[] {
    return [this.client.userPoolClientId, ...this.serviceClients.map((s) => s.client.userPoolClientId)];
  }

  /** `https://<domain>/oauth2/token`: where services exchange their client id and secret for an access token. */
  get tokenEndpoint(): string | undefined {
    return this.domain && `${this.domain.baseUrl()}/oauth2/token`;
  }

  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`: the `iss` of every token. */
  get issuer(): string {
    return `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${this.userPool.userPoolId}`;
  }
}
