/**
 * Machine identity: the resource server and its scopes (from registry/principals.json), one
 * client-credentials app client per consuming service, the operator group, the token endpoint,
 * and both edges (HTTP API authorizer, fanout) accepting the services' tokens.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import principals from '../../registry/principals.json';
import { validateServiceClients } from '../../lib/config/principals-data';
import { TenantUserPool } from '../../lib/data/tenant-user-pool';
import { resourcesOf, synthesize, type Synthesized } from './support/synth';

const SERVICES = 'billing:read,reports-eu:read-secrets+read';
const scopeOf = (name: string) => `${principals.resourceServer.identifier}/${name}`;

/** Logical id of the only resource of a type whose id contains `part`. */
function idOf(template: Template, type: string, part: string): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => id.includes(part));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** What an `AllowedOAuthScopes` entry resolves to, given the resource server's Ref is its identifier. */
function scopeNames(template: Template, scopes: unknown[]): string[] {
  const serverId = idOf(template, 'AWS::Cognito::UserPoolResourceServer', 'ResourceServer');
  return scopes.map((s) => {
    const [, [ref, suffix]] = (s as { 'Fn::Join': [string, [{ Ref: string }, string]] })['Fn::Join'];
    expect(ref).toEqual({ Ref: serverId });
    return `${principals.resourceServer.identifier}${suffix}`;
  });
}

describe('machine identity', () => {
  let withServices: Synthesized;
  let plain: Synthesized;
  let data: Template;

  beforeAll(() => {
    withServices = synthesize({ context: { services: SERVICES }, bundle: false });
    plain = synthesize({ bundle: false });
    data = withServices.templates.data;
  });

  describe('user pool', () => {
    it('has the resource server with the identifier and scopes of registry/principals.json', () => {
      data.resourceCountIs('AWS::Cognito::UserPoolResourceServer', 1);
      data.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
        Identifier: principals.resourceServer.identifier,
        Name: principals.resourceServer.name,
        Scopes: Object.values(principals.scopes).map((s) => ({ ScopeName: s.name, ScopeDescription: s.description })),
        UserPoolId: { Ref: idOf(data, 'AWS::Cognito::UserPool', 'UserPool') },
      });
    });

    it('has the platform-operators group next to the admin group', () => {
      data.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: principals.groups.operator });
      data.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: principals.groups.tenantAdmin });
      plain.templates.data.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'platform-operators' });
    });

    it('serves the token endpoint on a Cognito prefix domain unique to stage and account, output as TokenEndpoint', () => {
      const poolId = idOf(data, 'AWS::Cognito::UserPool', 'UserPool');
      data.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
        Domain: { 'Fn::Join': ['', ['tenant-config-dev-', { Ref: 'AWS::AccountId' }]] },
        UserPoolId: { Ref: poolId },
      });
      const domainId = idOf(data, 'AWS::Cognito::UserPoolDomain', 'Domain');
      data.hasOutput('TokenEndpoint', {
        Value: { 'Fn::Join': ['', ['https://', { Ref: domainId }, '.auth.', { Ref: 'AWS::Region' }, '.amazoncognito.com/oauth2/token']] },
      });
    });

    it('takes the domain prefix from context authDomainPrefix when given', () => {
      const custom = synthesize({ context: { authDomainPrefix: 'acme-tenant-config-dev' }, bundle: false });
      custom.templates.data.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-tenant-config-dev' });
    });

    it('keeps the pre-token-generation trigger at V2_0, which Cognito does not run for client-credentials grants', () => {
      data.hasResourceProperties('AWS::Cognito::UserPool', { LambdaConfig: { PreTokenGenerationConfig: Match.objectLike({ LambdaVersion: 'V2_0' }) } });
    });
  });

  describe('service app clients', () => {
    const clientsOf = (template: Template) =>
      resourcesOf(template, 'AWS::Cognito::UserPoolClient').filter(([, c]) =>
        ((c.Properties?.AllowedOAuthFlows as string[] | undefined) ?? []).includes('client_credentials'),
      );

    it('gives each service a client with a secret, the client-credentials flow only and exactly its scopes', () => {
      const expected: Record<string, string[]> = {
        'tenant-config-dev-svc-billing': [scopeOf('read')],
        'tenant-config-dev-svc-reports-eu': [scopeOf('read'), scopeOf('read-secrets')],
      };
      const clients = clientsOf(data);
      expect(clients.map(([, c]) => c.Properties?.ClientName).sort()).toEqual(Object.keys(expected).sort());
      for (const [, client] of clients) {
        const p = client.Properties!;
        expect(p).toMatchObject({
          GenerateSecret: true,
          AllowedOAuthFlows: ['client_credentials'],
          AllowedOAuthFlowsUserPoolClient: true,
          // No user sign-in flow: refresh only, and a client-credentials grant issues no refresh token.
          ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
          AccessTokenValidity: 60,
          TokenValidityUnits: { AccessToken: 'minutes' },
        });
        expect(p.CallbackURLs).toBeUndefined();
        expect(scopeNames(data, p.AllowedOAuthScopes as unknown[])).toEqual(expected[p.ClientName as string]);
      }
    });

    it('leaves the user app client as it was: user sign-in, no OAuth, no secret', () => {
      data.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        ClientName: 'tenant-config-dev-service',
        GenerateSecret: false,
        AllowedOAuthFlowsUserPoolClient: false,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      });
    });

    it('creates none by default', () => {
      expect(clientsOf(plain.templates.data)).toEqual([]);
      plain.templates.data.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    });

    it("outputs each service client's id, and never a secret", () => {
      data.hasOutput('ServiceClientIdBilling', { Value: { Ref: idOf(data, 'AWS::Cognito::UserPoolClient', 'ServiceBillingClient') } });
      data.hasOutput('ServiceClientIdReportsEu', { Value: { Ref: idOf(data, 'AWS::Cognito::UserPoolClient', 'ServiceReportsEuClient') } });
      for (const template of Object.values(withServices.templates)) expect(JSON.stringify(template.toJSON())).not.toContain('ClientSecret');
    });

    it('fails before building anything on a bad service name or an unknown scope', () => {
      const cases: Array<[unknown, RegExp]> = [
        [[{ name: 'Billing', scopes: ['read'] }], /name "Billing" must be 1-32 lower-case letters/],
        [[{ name: 'billing', scopes: ['write'] }], /service 'billing': unknown scope "write" \(expected 'read' or 'read-secrets'\)/],
        [[{ name: 'billing', scopes: ['read-secrets'] }], /service 'billing': scopes must include 'read'/],
        [[{ name: 'billing', scopes: [] }], /service 'billing': scopes must list at least 'read'/],
        [
          [
            { name: 'billing', scopes: ['read'] },
            { name: 'billing', scopes: ['read'] },
          ],
          /service 'billing' is listed twice/,
        ],
        [
          [
            { name: 'billing-eu', scopes: ['read'] },
            { name: 'billingeu', scopes: ['read'] },
          ],
          /names may not differ only in hyphens/,
        ],
      ];
      for (const [services, message] of cases) {
        const stack = new Stack(new App(), 'Pool');
        expect(() => new TenantUserPool(stack, 'Users', { name: 'tenant-config-dev', services: services as never })).toThrow(message);
        expect(stack.node.findAll().some((c) => c instanceof cognito.UserPool)).toBe(false);
      }
    });

    it('lists scopes in registry order whatever order they are given in', () => {
      expect(validateServiceClients([{ name: 'reports', scopes: ['read-secrets', 'read'] }])).toEqual([{ name: 'reports', scopes: ['read', 'read-secrets'] }]);
    });
  });

  describe('edges', () => {
    it("has the HTTP API's JWT authorizer accept the user client and every service client (client_id, as there is no aud)", () => {
      withServices.templates.service.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        JwtConfiguration: Match.objectLike({
          Audience: [
            { 'Fn::ImportValue': Match.stringLikeRegexp('UsersUserPoolServiceClient') },
            { 'Fn::ImportValue': Match.stringLikeRegexp('ServiceBillingClient') },
            { 'Fn::ImportValue': Match.stringLikeRegexp('ServiceReportsEuClient') },
            { Ref: Match.stringLikeRegexp('^ConsoleClient') },
          ],
        }),
      });
      plain.templates.service.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        JwtConfiguration: Match.objectLike({
          Audience: [{ 'Fn::ImportValue': Match.stringLikeRegexp('UsersUserPoolServiceClient') }, { Ref: Match.stringLikeRegexp('^ConsoleClient') }],
        }),
      });
    });

    it('gives the fanout the same clients as JWT_AUDIENCE, comma-separated', () => {
      withServices.templates.service.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([
              {
                Name: 'JWT_AUDIENCE',
                Value: {
                  'Fn::Join': [
                    '',
                    [
                      { 'Fn::ImportValue': Match.stringLikeRegexp('UsersUserPoolServiceClient') },
                      ',',
                      { 'Fn::ImportValue': Match.stringLikeRegexp('ServiceBillingClient') },
                      ',',
                      { 'Fn::ImportValue': Match.stringLikeRegexp('ServiceReportsEuClient') },
                      ',',
                      { Ref: Match.stringLikeRegexp('^ConsoleClient') },
                    ],
                  ],
                },
              },
            ]),
          }),
        ],
      });
    });
  });
});
