import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import consoleHeaders from '../../registry/console-headers.json';
import { acknowledge, acknowledgeWildcardResource } from '../common/nag';

/** The page's path on the distribution; the bucket holds the build under the same prefix. */
export const CONSOLE_PATH = '/console/';
/** The built console (`npm run build`), relative to this repository's root. */
export const DEFAULT_CONSOLE_DIST = join(__dirname, '..', '..', 'console', 'dist');
/** The distribution's behavior for the fanout's server-sent events (see {@link AdminConsole.serveEvents}). */
export const EVENTS_PATH_PATTERN = '/v1/events*';
/**
 * How long CloudFront waits for the next bytes of the event stream. The fanout sends a heartbeat
 * on an idle stream every 15 s (WATCH_HEARTBEAT_MS), so this leaves three missed ones; within the
 * default origin response timeout quota (no limit increase needed).
 */
export const EVENTS_READ_TIMEOUT = Duration.seconds(60);

/**
 * A viewer-request function on the page's behavior: a path whose last segment has no dot is a
 * view of the single-page app (hash routes, so in practice `/`, `/console` and `/console/`), and
 * gets index.html. Custom error responses would do the same for S3's 403/404 but apply to the
 * whole distribution, and would turn the event stream's own refusals (403, 404) into the page.
 */
export const VIEW_REWRITE_CODE = `function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) request.uri = '${CONSOLE_PATH}index.html';
  return request;
}
`;

export interface AdminConsoleProps {
  /** `tenant-config-<stage>`: names the app client. */
  readonly name: string;
  /** The pool people sign in to; the console's app client is created in it. */
  readonly userPool: cognito.IUserPool;
  /** The pool's domain, which serves the hosted UI (managed login) and the token endpoint. */
  readonly authDomain: cognito.UserPoolDomain;
  /**
   * The built console. Missing (a synth before `npm run build`, as in the CDK tests), a one-page
   * placeholder that says how to build it is deployed instead, so synth never needs the build.
   * @default console/dist of this repository
   */
  readonly assetDir?: string;
  /**
   * The API's custom domain, when it has one: the only API origin the page may connect to (CSP
   * connect-src). @default any API Gateway endpoint of the stack's region — the API's own id
   * cannot be named here: the API allows this distribution's origin (CORS), so naming it back
   * would be a dependency cycle.
   */
  readonly apiDomainName?: string;
  /** @default Duration.minutes(60), as the user client's */
  readonly accessTokenValidity?: Duration;
}

/** What the page is told at run time (`config.json`, see console/src/config.ts). */
export interface AdminConsoleSettings {
  /** The HTTP API's base URL. */
  readonly apiUrl: string;
  /**
   * The base URL `GET /v1/events` is served under, when not the API's. It must be in the page's
   * CSP connect-src ('self' is). @default this distribution's origin after {@link
   * AdminConsole.serveEvents}, else apiUrl
   */
  readonly eventsUrl?: string;
}

/**
 * The admin console on AWS: the built single-page app in a private S3 bucket, served only
 * through CloudFront with Origin Access Control and the security headers of
 * registry/console-headers.json (the local front sends the same), and a public Cognito app client
 * for the authorization code flow with PKCE that the page runs itself. The page calls the HTTP
 * API directly (CORS for this distribution's origin, set on the API by the caller), and reads the
 * fanout's server-sent events from its own origin once {@link serveEvents} routes `/v1/events`
 * to the fanout through a VPC origin.
 *
 * Built in two steps because the API needs the client id (its JWT audience) and the
 * distribution's origin (CORS) before the page can be told the API's URL: construct, then
 * {@link serveEvents} once the fanout exists and {@link publish} once the API exists.
 */
export class AdminConsole extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly client: cognito.UserPoolClient;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  /** Whether the build was found; false deploys the placeholder page. */
  readonly built: boolean;
  /** Rewrites the page's views to index.html (see {@link VIEW_REWRITE_CODE}). */
  readonly views: cloudfront.Function;
  private readonly props: AdminConsoleProps;
  private servesEvents = false;

  constructor(scope: Construct, id: string, props: AdminConsoleProps) {
    super(scope, id);
    this.props = props;
    this.built = existsSync(join(props.assetDir ?? DEFAULT_CONSOLE_DIST, 'index.html'));
    if (!this.built) {
      Annotations.of(this).addWarningV2(
        'tenant-config:console-not-built',
        'console/dist is missing: a placeholder page is deployed; run `npm run build` first.',
      );
    }

    // Not versioned: every deploy replaces the whole build from source (prune), so an old
    // version is a rebuild away and versions would only grow the bucket.
    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.bucket,
      'AwsSolutions-S1',
      'Holds the public build of the console only, read by CloudFront alone (OAC); what users do is logged by the API it calls.',
    );

    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `${props.name} console: CSP, HSTS, frame, content type and referrer headers`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: this.contentSecurityPolicy(), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(consoleHeaders.hstsMaxAgeSeconds), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    this.views = new cloudfront.Function(this, 'Views', {
      comment: `${props.name} console: views of the page are index.html`,
      code: cloudfront.FunctionCode.fromInline(VIEW_REWRITE_CODE),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${props.name} admin console`,
      defaultRootObject: `${CONSOLE_PATH.slice(1)}index.html`,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
        functionAssociations: [{ function: this.views, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      "No custom domain: the distribution's default *.cloudfront.net certificate, for which CloudFront fixes the minimum protocol itself (TLSv1).",
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'Operators and tenant admins sign in from anywhere; access is decided by Cognito and the API, not by country.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'A static page behind sign-in; the API it calls has its own throttling. Attach a web ACL here if the organisation requires one.',
    );
    acknowledge(this.distribution, 'AwsSolutions-CFR3', 'The page is static; every action in it is an API call, recorded in the API access logs.');

    // A public client (a page cannot keep a secret): authorization code grant only, PKCE, and
    // the callback and logout URL are this distribution's page, nothing else.
    this.client = new cognito.UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      userPoolClientName: `${props.name}-console`,
      generateSecret: false,
      authFlows: { userPassword: false, userSrp: false, custom: false, adminUserPassword: false },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [this.url],
        logoutUrls: [this.url],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: props.accessTokenValidity ?? Duration.minutes(60),
      idTokenValidity: props.accessTokenValidity ?? Duration.minutes(60),
      // The page keeps no refresh token (sessionStorage holds the access token only): the shortest Cognito allows.
      refreshTokenValidity: Duration.hours(1),
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });
  }

  /** `https://<distribution>/console/`: the page, the OAuth callback and the logout URL. */
  get url(): string {
    return `${this.origin}${CONSOLE_PATH}`;
  }

  /** `https://<distribution>`: the origin the API allows (CORS). */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /**
   * Serves `GET /v1/events` through this distribution from the fanout's internal NLB (a CloudFront
   * VPC origin, plain HTTP inside the VPC), so the page reads the stream from its own origin: no
   * CORS, no certificate for the NLB, and the NLB stays internal. Nothing is cached; the token
   * (`Authorization`), `Last-Event-ID` and the query go to the fanout as the browser sent them;
   * nothing is compressed, which could hold frames back. Call once, before {@link publish}.
   *
   * VPC origins take an NLB only when it is internal, IPv4, without TLS listeners and with a
   * security group admitting CloudFront (FanoutService's `cloudFrontEvents` builds one so).
   */
  serveEvents(origin: { readonly loadBalancer: elbv2.INetworkLoadBalancer; readonly port: number }): void {
    if (this.servesEvents) throw new Error('AdminConsole: serveEvents() may be called once');
    if (this.node.tryFindChild('Deployment')) throw new Error('AdminConsole: serveEvents() must come before publish()');
    this.servesEvents = true;
    const fanout = origins.VpcOrigin.withNetworkLoadBalancer(origin.loadBalancer, {
      httpPort: origin.port,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      readTimeout: EVENTS_READ_TIMEOUT,
    });
    this.distribution.addBehavior(EVENTS_PATH_PATTERN, fanout, {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      // An origin request policy may not name Authorization; the managed all-viewer ones forward it
      // (and every other header, cookie and query) when the cache policy caches nothing.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.headers,
      compress: false,
    });
  }

  /**
   * Deploys the build and the page's `config.json`, and lets the page connect to the API (CSP
   * connect-src). Call once, after the API exists.
   */
  publish(settings: AdminConsoleSettings): s3deploy.BucketDeployment {
    if (this.node.tryFindChild('Deployment')) throw new Error('AdminConsole: publish() may be called once');
    const region = Stack.of(this).region;
    const domain = this.props.authDomain.baseUrl();
    const build = this.built
      ? s3deploy.Source.asset(this.props.assetDir ?? DEFAULT_CONSOLE_DIST)
      : s3deploy.Source.data('index.html', '<!doctype html><title>Console not built</title><p>Run <code>npm run build</code>, then deploy again.</p>\n');
    const eventsUrl = settings.eventsUrl ?? (this.servesEvents ? this.origin : undefined);
    const config = s3deploy.Source.jsonData('config.json', {
      apiUrl: settings.apiUrl,
      ...(eventsUrl ? { eventsUrl } : {}),
      auth: { kind: 'cognito', domain, clientId: this.client.userPoolClientId, region, scopes: ['openid', 'email'] },
    });
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: CONSOLE_PATH.slice(1),
      sources: [build, config],
      prune: true,
      distribution: this.distribution,
      distributionPaths: [`${CONSOLE_PATH}index.html`, `${CONSOLE_PATH}config.json`],
      memoryLimit: 256,
    });
    acknowledgeDeploymentHandler(Stack.of(this), this.bucket);
    return deployment;
  }

  /** registry/console-headers.json's policy, with the API's and the hosted UI's origins in connect-src. */
  private contentSecurityPolicy(): string {
    const stack = Stack.of(this);
    const api = this.props.apiDomainName ? `https://${this.props.apiDomainName}` : `https://*.execute-api.${stack.region}.${stack.urlSuffix}`;
    const connect = ["'self'", api, this.props.authDomain.baseUrl()];
    return Object.entries(consoleHeaders.contentSecurityPolicy)
      .map(([directive, sources]) => `${directive} ${(directive === 'connect-src' ? connect : sources).join(' ')}`)
      .join('; ');
  }
}

/**
 * BucketDeployment's handler is one Lambda per stack that CDK writes and pins (its runtime, its
 * role): acknowledged there, finding by finding, so nothing else in the stack is excused.
 */
function acknowledgeDeploymentHandler(stack: Stack, bucket: s3.IBucket): void {
  const handlers = stack.node.children.filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  const reasons: Record<string, string> = {
    'AwsSolutions-L1': "CDK's BucketDeployment handler: its runtime is chosen and updated by aws-cdk-lib.",
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      "CDK's BucketDeployment handler writes its own logs with the basic execution role.",
    'AwsSolutions-IAM5[Action::s3:GetBucket*]': 'grantRead of the CDK asset bucket and the console bucket, by aws-cdk-lib.',
    'AwsSolutions-IAM5[Action::s3:GetObject*]': 'grantRead of the CDK asset bucket and the console bucket, by aws-cdk-lib.',
    'AwsSolutions-IAM5[Action::s3:List*]': 'grantRead of the CDK asset bucket and the console bucket, by aws-cdk-lib.',
    'AwsSolutions-IAM5[Action::s3:Abort*]': 'grantReadWrite of the console bucket, whose whole content the deployment replaces.',
    'AwsSolutions-IAM5[Action::s3:DeleteObject*]': 'grantReadWrite of the console bucket: prune deletes files of the previous build.',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]':
      'Reads the build from the CDK bootstrap asset bucket.',
    'AwsSolutions-IAM5[Resource::*]': 'cloudfront:CreateInvalidation has no resource-level permission narrower than the account.',
  };
  for (const handler of handlers) {
    for (const [id, reason] of Object.entries(reasons)) acknowledge(handler, id, reason);
    acknowledgeWildcardResource(handler, `${bucket.bucketArn}/*`, 'Writes and prunes the objects of the console bucket, whose whole content it owns.');
    // The default bootstrap's asset bucket, as the stack synthesizer names it.
    const assets = `arn:${stack.partition}:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`;
    acknowledgeWildcardResource(handler, assets, 'Reads the build from the CDK bootstrap asset bucket.');
  }
}
