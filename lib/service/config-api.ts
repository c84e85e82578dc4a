import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../common/nag';
import { SecretReference } from '../common/secret-reference';
import { ServiceFunction } from '../common/service-function';
import type { CacheConnection } from './cache-connection';
import type { StoreAccess } from './store-access';

/**
 * The routes of docs/design.md §4.1 and §8.2, as API Gateway route keys. The handler's own table
 * (lambda/config-api/routes.ts ROUTE_KEYS) must list the same; test/cdk checks it.
 * Keys may contain '/', hence the greedy `{key+}`; POST on an item route is its restore
 * (`<item path>/restore`), and the layers' histories sit under `/v1/history/` (see routes.ts).
 */
const { GET, PUT, DELETE, POST } = apigwv2.HttpMethod;
export const CONFIG_API_ROUTES: ReadonlyArray<{ readonly path: string; readonly methods: readonly apigwv2.HttpMethod[] }> = [
  { path: '/v1/config', methods: [GET] },
  { path: '/v1/config/{key+}', methods: [GET, PUT, DELETE, POST] },
  { path: '/v1/history/{key+}', methods: [GET] },
  // The same routes for a named tenant (services and operators; a tenant principal for its own tenant only).
  { path: '/v1/tenants/{tenantId}/config', methods: [GET] },
  { path: '/v1/tenants/{tenantId}/config/{key+}', methods: [GET, PUT, DELETE, POST] },
  { path: '/v1/tenants/{tenantId}/history/{key+}', methods: [GET] },
  // Flag evaluation, `GET /v1/flags/{name}/evaluate` (a greedy parameter must end the route), and its twin.
  { path: '/v1/flags/{key+}', methods: [GET] },
  { path: '/v1/tenants/{tenantId}/flags/{key+}', methods: [GET] },
  // Layers of defaults: every principal reads, operators write.
  { path: '/v1/defaults', methods: [GET] },
  { path: '/v1/defaults/{key+}', methods: [GET, PUT, DELETE, POST] },
  { path: '/v1/history/defaults/{key+}', methods: [GET] },
  { path: '/v1/segments/{segment}', methods: [GET] },
  { path: '/v1/segments/{segment}/{key+}', methods: [GET, PUT, DELETE, POST] },
  { path: '/v1/history/segments/{segment}/{key+}', methods: [GET] },
  // The tenant registry (operators only); DELETE offboards.
  { path: '/v1/tenants', methods: [GET] },
  { path: '/v1/tenants/{tenantId}', methods: [GET, PUT, DELETE] },
  // Staged rollouts of defaults (operators only): start and list, read, pause|resume|rollback.
  { path: '/v1/rollouts', methods: [GET, POST] },
  { path: '/v1/rollouts/{rolloutId}', methods: [GET] },
  { path: '/v1/rollouts/{rolloutId}/{command}', methods: [POST] },
];

export interface ConfigApiProps {
  /** `tenant-config-<stage>`. */
  readonly name: string;
  readonly stage: string;
  readonly ssmRoot: string;
  readonly tableName: string;
  /** KMS key id for SecureString parameters; set only when some tag is secret. */
  readonly parameterKeyId?: string;
  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  readonly issuer: string;
  /** App client ids accepted as `aud` / `client_id`. */
  readonly audience: readonly string[];
  /** Claim holding the tenant. */
  readonly tenantClaim: string;
  /** Cognito group allowed to write. */
  readonly adminGroup: string;
  /** Serve registered tenants only (REQUIRE_TENANT_REGISTRATION). @default false */
  readonly requireTenantRegistration?: boolean;
  readonly storeAccess: StoreAccess;
  readonly cache: CacheConnection;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Secrets Manager name of the page-token key, e.g. `tenant-config/dev/page-token`. */
  readonly pageTokenSecretName: string;
  /** Custom domain and its certificate. @default the execute-api URL only */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /** @default { rateLimit: 500, burstLimit: 1000 } */
  readonly throttle?: apigwv2.ThrottleSettings;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Origins of pages that call the API from a browser (the admin console's distribution): CORS preflights and headers. @default none */
  readonly corsAllowOrigins?: readonly string[];
}

/**
 * The HTTP API and the config-api function behind it. Every route needs a Cognito access token:
 * API Gateway checks its signature, issuer, expiry and audience (`client_id`) before the function
 * runs, and the function takes the tenant from the verified `tenant_id` claim alone.
 */
export class ConfigApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly handler: ServiceFunction;
  readonly pageTokenSecret: secretsmanager.Secret;
  readonly securityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: ConfigApiProps) {
    super(scope, id);
    if (props.audience.length === 0) throw new Error('ConfigApi: at least one audience (app client id) is required');

    this.pageTokenSecret = new secretsmanager.Secret(this, 'PageTokenKey', {
      secretName: props.pageTokenSecretName,
      description: 'HMAC key of list nextTokens; every config-api instance shares it',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.pageTokenSecret,
      'AwsSolutions-SMG4',
      'Rotation would only invalidate nextTokens in flight (clients restart the listing); the key never leaves the function and never signs anything durable.',
    );

    const pageToken = new SecretReference(this.pageTokenSecret, props.pageTokenSecretName);

    this.securityGroup = props.cache.props.clientSecurityGroup;
    this.handler = new ServiceFunction(this, 'Handler', {
      entry: 'lambda/config-api/main.ts',
      description: 'Tenant config HTTP API (config-api)',
      serviceName: 'config-api',
      memorySize: 1024,
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      environment: {
        TABLE_NAME: props.tableName,
        SSM_ROOT: props.ssmRoot,
        STAGE: props.stage,
        PAGE_TOKEN_SECRET_PARAMETER: pageToken.parameterName,
        TENANT_CLAIM: props.tenantClaim,
        ADMIN_GROUP: props.adminGroup,
        REQUIRE_TENANT_REGISTRATION: String(props.requireTenantRegistration ?? false),
        ...(props.parameterKeyId ? { SSM_KMS_KEY_ID: props.parameterKeyId } : {}),
        ...props.cache.environment(),
      },
    });
    pageToken.grantRead(this, this.handler.role, 'PageTokenKey');
    props.storeAccess.grant(this.handler.role, 'config-api');
    props.cache.grantReadCredentials(this, this.handler.role);

    const authorizer = new HttpJwtAuthorizer('CognitoAccessToken', props.issuer, {
      authorizerName: 'cognito-access-token',
      jwtAudience: [...props.audience],
      identitySource: ['$request.header.Authorization'],
    });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: props.name,
      description: 'Tenant configuration service',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      // Named origins only, never '*'; a page reads ETag (If-Match) and Location from answers.
      corsPreflight: props.corsAllowOrigins?.length
        ? {
            allowOrigins: [...props.corsAllowOrigins],
            allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.PUT, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.DELETE],
            allowHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match'],
            exposeHeaders: ['etag', 'location', 'retry-after'],
            maxAge: Duration.minutes(10),
          }
        : undefined,
    });
    const integration = new HttpLambdaIntegration('ConfigApiHandler', this.handler.function);
    for (const route of CONFIG_API_ROUTES) {
      this.api.addRoutes({ path: route.path, methods: [...route.methods], integration, authorizer });
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const domainName = props.domain
      ? new apigwv2.DomainName(this, 'DomainName', {
          domainName: props.domain.name,
          certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
          securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
        })
      : undefined;
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 500, burstLimit: 1000 },
      detailedMetricsEnabled: true,
      domainMapping: domainName ? { domainName } : undefined,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // Who called which route for which tenant, and how it ended; never a value.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTimeEpoch',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            tenant: `$context.authorizer.claims.${props.tenantClaim}`,
            subject: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });
  }

  /** The API's base URL (the custom domain's, when one is mapped). */
  get url(): string {
    return this.stage.url;
  }
}
