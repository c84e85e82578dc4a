/**
 * The admin console on AWS (lib/console/admin-console.ts): a private bucket read only through
 * CloudFront with Origin Access Control, the security headers, views rewritten to index.html, a
 * public PKCE app client whose callback is the distribution, CORS on the API for that origin only,
 * and the fanout's server-sent events through the same distribution (a VPC origin).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST } from '../../lib/common/cloudfront-prefix-list';
import { AdminConsole, VIEW_REWRITE_CODE } from '../../lib/console/admin-console';
import { resourcesOf, synthesize } from './support/synth';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012';

/** The logical id of the only resource of a type whose id starts with `prefix`. */
function idOf(template: Template, type: string, prefix: string): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('admin console', () => {
  const { templates, outdir } = synthesize({ bundle: false });
  const service = templates.service;
  const tls = synthesize({
    bundle: false,
    context: { stage: 'prod', region: 'eu-west-1', certificateArn: CERTIFICATE_ARN, domainName: 'config.example.com' },
  }).templates.service;

  it('keeps the site bucket private, encrypted and TLS-only, readable by the distribution alone (OAC)', () => {
    service.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    service.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    service.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('serves /console/ over HTTPS with the security headers, and index.html for any view', () => {
    service.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'console/index.html',
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          ResponseHeadersPolicyId: Match.anyValue(),
          FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleViews'), 'FunctionARN'] } }],
        }),
        Origins: Match.arrayWith([Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })]),
        // Distribution-wide: they would turn the event stream's refusals into the page.
        CustomErrorResponses: Match.absent(),
      }),
    });
    service.hasResourceProperties('AWS::CloudFront::Function', { FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }), AutoPublish: true });
    // The function's own logic, run as CloudFront would: views become index.html, files stay.
    const handler = new Function(`${VIEW_REWRITE_CODE}; return handler;`)() as (e: { request: { uri: string } }) => { uri: string };
    const rewrite = (uri: string) => handler({ request: { uri } }).uri;
    for (const view of ['/', '/console', '/console/', '/console/tenants']) expect(rewrite(view)).toBe('/console/index.html');
    for (const file of ['/console/index.html', '/console/config.json', '/console/assets/index-abc123.js']) expect(rewrite(file)).toBe(file);
    const [policy] = Object.values(service.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
    const headers = (policy as any).Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
    });
    const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toMatch(/connect-src 'self' https:\/\/\*\.execute-api\./);
  });

  it('signs in with a public app client: authorization code grant (PKCE), no secret, the distribution as callback and logout URL', () => {
    const callback = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleDistribution'), 'DomainName'] }, '/console/']] };
    service.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'tenant-config-dev-console',
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: [callback],
      LogoutURLs: [callback],
      SupportedIdentityProviders: ['COGNITO'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
  });

  it('lets the console origin, and only it, call the API from the browser (CORS), reading ETag', () => {
    service.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleDistribution'), 'DomainName'] }]] }],
        AllowHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match'],
        ExposeHeaders: ['etag', 'location', 'retry-after'],
      }),
    });
  });

  it('deploys the build and a config.json naming the API, the hosted UI and the client', () => {
    service.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: 'console/',
      Prune: true,
      DistributionPaths: ['/console/index.html', '/console/config.json'],
    });
  });

  describe('the live events (GET /v1/events) through the distribution', () => {
    it('has a /v1/events* behavior that caches nothing and forwards the token, Last-Event-ID and the query uncompressed', () => {
      const [[, distribution]] = resourcesOf(service, 'AWS::CloudFront::Distribution');
      const config = (distribution.Properties as any).DistributionConfig;
      expect(config.CacheBehaviors).toHaveLength(1);
      const [behavior] = config.CacheBehaviors;
      expect(behavior).toMatchObject({
        PathPattern: '/v1/events*',
        ViewerProtocolPolicy: 'https-only',
        AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
        // Managed CachingDisabled: TTL 0, nothing in the key, no compression.
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        // Managed AllViewerExceptHostHeader: every viewer header (Authorization, Last-Event-ID), cookie
        // and query string; no origin request policy of ours could name Authorization.
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
        Compress: false,
        ResponseHeadersPolicyId: { Ref: idOf(service, 'AWS::CloudFront::ResponseHeadersPolicy', 'ConsoleSecurityHeaders') },
      });
      const origin = config.Origins.find((o: { Id: string }) => o.Id === behavior.TargetOriginId);
      expect(origin).toEqual({
        Id: behavior.TargetOriginId,
        DomainName: { 'Fn::GetAtt': [idOf(service, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'FanoutLoadBalancer'), 'DNSName'] },
        // Three 15 s heartbeats may go missing before CloudFront gives up on the stream.
        VpcOriginConfig: { VpcOriginId: { 'Fn::GetAtt': [idOf(service, 'AWS::CloudFront::VpcOrigin', 'ConsoleDistribution'), 'Id'] }, OriginReadTimeout: 60 },
      });
    });

    it("makes the fanout's internal NLB a VPC origin on its events port, over HTTP inside the VPC", () => {
      service.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
        VpcOriginEndpointConfig: Match.objectLike({
          Arn: { Ref: idOf(service, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'FanoutLoadBalancer') },
          HTTPPort: 8081,
          OriginProtocolPolicy: 'http-only',
        }),
      });
      service.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Type: 'network',
        Scheme: 'internal',
        SecurityGroups: [
          { 'Fn::GetAtt': [idOf(service, 'AWS::EC2::SecurityGroup', 'FanoutLoadBalancerGroup'), 'GroupId'] },
          { 'Fn::GetAtt': [idOf(service, 'AWS::EC2::SecurityGroup', 'FanoutEventsOriginGroup'), 'GroupId'] },
        ],
      });
    });

    it("admits CloudFront's origin-facing prefix list, looked up in the region, on the events port only", () => {
      const lookup = idOf(service, 'Custom::AWS', 'CloudFrontOriginFacingPrefixList');
      const create = JSON.stringify(service.findResources('Custom::AWS')[lookup].Properties.Create);
      expect(create).toContain('describeManagedPrefixLists');
      expect(create).toContain(CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST);
      const group = idOf(service, 'AWS::EC2::SecurityGroup', 'FanoutEventsOriginGroup');
      const ingress = resourcesOf(service, 'AWS::EC2::SecurityGroupIngress')
        .map(([, r]) => r.Properties!)
        .filter((p) => JSON.stringify(p.GroupId).includes(group));
      expect(ingress).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 8081,
          ToPort: 8081,
          SourcePrefixListId: { 'Fn::GetAtt': [lookup, 'PrefixLists.0.PrefixListId'] },
        }),
      ]);
      // And the tasks take the events from that group.
      service.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [idOf(service, 'AWS::EC2::SecurityGroup', 'FanoutTaskGroup'), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [group, 'GroupId'] },
        FromPort: 8081,
        ToPort: 8081,
      });
    });

    it('with a certificate (TLS listeners, internet-facing), reads them from a second, internal NLB: TCP 8081 only', () => {
      const origin = idOf(tls, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'FanoutEventsOriginLoadBalancer');
      expect(tls.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer')[origin].Properties).toMatchObject({
        Type: 'network',
        Scheme: 'internal',
        SecurityGroups: [{ 'Fn::GetAtt': [idOf(tls, 'AWS::EC2::SecurityGroup', 'FanoutEventsOriginGroup'), 'GroupId'] }],
      });
      tls.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { LoadBalancerArn: { Ref: origin }, Protocol: 'TCP', Port: 8081 });
      expect(resourcesOf(tls, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, l]) => JSON.stringify(l.Properties).includes(origin))).toHaveLength(1);
      tls.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
        VpcOriginEndpointConfig: Match.objectLike({ Arn: { Ref: origin }, HTTPPort: 8081, OriginProtocolPolicy: 'http-only' }),
      });
      // Its own target group of the same tasks, health-checked like the public one.
      tls.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8081, Protocol: 'TCP', HealthCheckPath: '/healthz' });
      expect(resourcesOf(tls, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter(([, g]) => g.Properties!.Port === 8081)).toHaveLength(2);
    });

    it("tells the page, in config.json, to read them from the distribution's own origin (CSP connect-src 'self')", () => {
      const [[, deployment]] = resourcesOf(service, 'Custom::CDKBucketDeployment');
      const markers = (deployment.Properties as any).SourceMarkers as Array<Record<string, unknown>>;
      const configs = readdirSync(outdir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && entry.name.startsWith('asset.'))
        .map((entry) => join(outdir, entry.name, 'config.json'))
        .filter((file) => existsSync(file))
        .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { eventsUrl?: string });
      expect(configs).toHaveLength(1);
      const [, marker] = /^https:\/\/(<<marker:0xbaba:\d+>>)$/.exec(configs[0].eventsUrl ?? '') ?? [];
      expect(marker).toBeDefined();
      const values = Object.assign({}, ...markers);
      expect(values[marker]).toEqual({ 'Fn::GetAtt': [idOf(service, 'AWS::CloudFront::Distribution', 'ConsoleDistribution'), 'DomainName'] });
      const [policy] = Object.values(service.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
      expect(JSON.stringify(policy)).toContain("connect-src 'self'");
    });
  });

  it('synthesizes without a build, deploying a placeholder page', () => {
    const stack = new Stack(new App(), 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
    const pool = new cognito.UserPool(stack, 'Pool');
    const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'bare-console' } });
    const console = new AdminConsole(stack, 'Console', { name: 'bare', userPool: pool, authDomain: domain, assetDir: '/nonexistent/console-dist' });
    console.publish({ apiUrl: 'https://api.example.com/' });
    expect(console.built).toBe(false);
    Annotations.fromStack(stack).hasWarning('/Bare/Console', Match.stringLikeRegexp('npm run build'));
    Template.fromStack(stack).resourceCountIs('Custom::CDKBucketDeployment', 1);
    expect(() => console.publish({ apiUrl: 'https://api.example.com/' })).toThrow(/once/);
  });

  it('serves the events once, and only before publish()', () => {
    const stack = new Stack(new App(), 'Events', { env: { account: '123456789012', region: 'eu-west-1' } });
    const pool = new cognito.UserPool(stack, 'Pool');
    const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'events-console' } });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const loadBalancer = new elbv2.NetworkLoadBalancer(stack, 'Nlb', { vpc, securityGroups: [new ec2.SecurityGroup(stack, 'Group', { vpc })] });
    const console = new AdminConsole(stack, 'Console', { name: 'events', userPool: pool, authDomain: domain, assetDir: '/nonexistent/console-dist' });
    console.serveEvents({ loadBalancer, port: 8081 });
    expect(() => console.serveEvents({ loadBalancer, port: 8081 })).toThrow(/once/);
    console.publish({ apiUrl: 'https://api.example.com/' });
    const late = new AdminConsole(stack, 'Late', { name: 'late', userPool: pool, authDomain: domain, assetDir: '/nonexistent/console-dist' });
    late.publish({ apiUrl: 'https://api.example.com/' });
    expect(() => late.serveEvents({ loadBalancer, port: 8081 })).toThrow(/before publish/);
  });
});
