import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readStageConfig } from '../../lib/config/stage-config';
import { DataStack } from '../../lib/data/data-stack';
import { NetworkStack } from '../../lib/network/network-stack';
import { resourcesOf, snapshotOf, synthesize, type Synthesized } from './support/synth';

describe('data stack', () => {
  let dev: Synthesized;
  let template: Template;
  let prodData: Template;

  beforeAll(() => {
    dev = synthesize();
    template = dev.templates.data;
    // Production differences need only the network and data stacks.
    const app = new App();
    const config = readStageConfig((key) => ({ stage: 'prod' })[key as 'stage']);
    const network = new NetworkStack(app, 'Network', { config });
    prodData = Template.fromStack(new DataStack(app, 'Data', { config, vpc: network.vpc }));
  });

  it('is termination-protected', () => {
    expect(dev.stacks.data.terminationProtection).toBe(true);
  });

  it.each([
    'AWS::DynamoDB::Table',
    'AWS::KMS::Key',
    'AWS::Cognito::UserPool',
    'AWS::ElastiCache::ServerlessCache',
    'AWS::ElastiCache::UserGroup',
    'AWS::ElastiCache::User',
    'AWS::SecretsManager::Secret',
  ])('retains every %s on delete and replace', (type) => {
    const found = resourcesOf(template, type);
    expect(found.length).toBeGreaterThan(0);
    for (const [, resource] of found) {
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  describe('tenant table', () => {
    it('has the keys, stream, recovery, billing, TTL and protection the backends rely on', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'tenantId', KeyType: 'HASH' },
          { AttributeName: 'configKey', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'tenantId', AttributeType: 'S' },
          { AttributeName: 'configKey', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'leaseExpiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
      });
    });

    it('is encrypted with its own rotated customer-managed key', () => {
      const [[keyId]] = resourcesOf(template, 'AWS::KMS::Alias')
        .filter(([, a]) => a.Properties?.AliasName === 'alias/tenant-config-dev/table')
        .map(([, a]) => [(a.Properties?.TargetKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]]);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      });
      for (const [, key] of resourcesOf(template, 'AWS::KMS::Key')) expect(key.Properties?.EnableKeyRotation).toBe(true);
    });
  });

  describe('Parameter Store root', () => {
    it('has a SecureString key and a layout marker outside the tenants subtree', () => {
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/tenant-config-dev/parameters' });
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/tenant-config/dev/layout',
        Type: 'String',
        Value: Match.stringLikeRegexp('"tenantsPath":"/tenant-config/dev/tenants/"'),
      });
    });
  });

  describe('cache', () => {
    it('is ElastiCache Serverless Valkey in the isolated subnets with a user group', () => {
      template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
        Engine: 'valkey',
        ServerlessCacheName: 'tenant-config-dev',
        UserGroupId: 'tenant-config-dev',
        SubnetIds: Match.arrayWith([Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('isolatedSubnet') })]),
        SecurityGroupIds: [Match.anyValue()],
      });
    });

    it('switches the default user off and authenticates the service user by a Secrets Manager password', () => {
      template.hasResourceProperties('AWS::ElastiCache::User', {
        UserName: 'default',
        AccessString: Match.stringLikeRegexp('^off '),
      });
      template.hasResourceProperties('AWS::ElastiCache::User', {
        UserName: 'config-service',
        AccessString: Match.stringLikeRegexp('^on ~tc:\\* .*-@admin'),
        AuthenticationMode: {
          Type: 'password',
          Passwords: [{ 'Fn::Join': ['', Match.arrayWith(['{{resolve:secretsmanager:', ':SecretString:password::}}'])] }],
        },
      });
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: 'tenant-config/dev/cache-auth',
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', ExcludePunctuation: true }),
      });
    });

    it('admits only members of the cache-client group, on the TLS port', () => {
      const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup');
      const clientId = groups.find(([id]) => id.startsWith('CacheClientGroup'))![0];
      const ingress = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
      expect(ingress).toEqual([
        expect.objectContaining({ FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp', SourceSecurityGroupId: { 'Fn::GetAtt': [clientId, 'GroupId'] } }),
      ]);
      const cacheGroup = groups.find(([id]) => id.startsWith('CacheCacheGroup'))![1];
      expect(cacheGroup.Properties?.SecurityGroupIngress).toBeUndefined();
    });
  });

  describe('user pool', () => {
    it('has an immutable tenant_id attribute, no self sign-up, the Essentials plan and deletion protection', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        Schema: Match.arrayWith([Match.objectLike({ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false })]),
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        UserPoolTier: 'ESSENTIALS',
        DeletionProtection: 'ACTIVE',
      });
    });

    it('lets no app client write the tenant, while clients may read it', () => {
      const clients = resourcesOf(template, 'AWS::Cognito::UserPoolClient');
      expect(clients.length).toBeGreaterThan(0);
      for (const [, client] of clients) {
        const writable = client.Properties?.WriteAttributes as string[] | undefined;
        // An absent list would make every writable attribute writable.
        expect(writable).toBeDefined();
        expect(writable).not.toContain('custom:tenant_id');
        expect(writable).not.toContain('email_verified');
        expect(client.Properties?.ReadAttributes).toContain('custom:tenant_id');
      }
    });

    it('has the config-admins group', () => {
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'config-admins' });
    });

    it('runs a V2 pre-token-generation trigger on Node.js 24 ARM64 that copies custom:tenant_id to tenant_id', () => {
      const fnId = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.includes('PreTokenGeneration'))![0];
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        LambdaConfig: { PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [fnId, 'Arn'] }, LambdaVersion: 'V2_0' } },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: { Variables: Match.objectLike({ TENANT_ATTRIBUTE: 'custom:tenant_id', TENANT_CLAIM: 'tenant_id' }) },
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'cognito-idp.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
    });

    it('makes MFA optional outside production and required in production', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OPTIONAL', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
      prodData.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
    });
  });

  it("keeps the logical ids of its stateful resources, built by TenantConfigData as the stack's Default child", () => {
    // These ids are what existing deployments hold: a change would replace the resource.
    const ids = (type: string) => resourcesOf(template, type).map(([id]) => id);
    expect(ids('AWS::DynamoDB::Table')).toEqual(['TenantTable422B767F']);
    expect(ids('AWS::Cognito::UserPool')).toEqual(['UsersUserPool7E610616']);
    expect(ids('AWS::ElastiCache::ServerlessCache')).toEqual(['CacheDAF337C5']);
    expect(ids('AWS::ElastiCache::UserGroup')).toEqual(['CacheUserGroup978A79CF']);
    expect(ids('AWS::KMS::Key').sort()).toEqual(['ParametersSecureStringKeyC977DB04', 'TenantTableKey2CBFF34E']);
    expect(ids('AWS::SecretsManager::Secret')).toEqual(['CacheCredentials926150CD']);
  });

  it('matches the reviewed snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
