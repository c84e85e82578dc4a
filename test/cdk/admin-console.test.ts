/**
 * The admin console on AWS (lib/console/admin-console.ts): a private bucket read only through
 * CloudFront with Origin Access Control, the security headers, SPA error responses, a public
 * PKCE app client whose callback is the distribution, and CORS on the API for that origin only.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AdminConsole } from '../../lib/console/admin-console';
import { synthesize } from './support/synth';

describe('admin console', () => {
  const { templates } = synthesize({ bundle: false });
  const service = templates.service;

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
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: Match.anyValue() }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
        CustomErrorResponses: [
          { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/console/index.html', ErrorCachingMinTTL: 10 },
          { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/console/index.html', ErrorCachingMinTTL: 10 },
        ],
      }),
    });
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
});
