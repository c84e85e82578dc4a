import { Match, type Template } from 'aws-cdk-lib/assertions';
import { CONFIG_API_ROUTES } from '../../lib/service/config-api';
import { ROUTE_KEYS } from '../../lambda/config-api/routes';
import { actionsOfRole, resourcesOf, snapshotOf, statementsOfRole, synthesize, type Synthesized } from './support/synth';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012';

/** Logical id of the only resource of a type whose id starts with `prefix`. */
function idOf(template: Template, type: string, prefix: string): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('service stack', () => {
  let dev: Synthesized;
  let tls: Synthesized;
  let template: Template;

  beforeAll(() => {
    dev = synthesize();
    template = dev.templates.service;
    tls = synthesize({ context: { stage: 'prod', region: 'eu-west-1', certificateArn: CERTIFICATE_ARN, domainName: 'config.example.com' } });
  });

  it('is not termination-protected: it holds no state', () => {
    expect(dev.stacks.service.terminationProtection).toBe(false);
  });

  describe('functions', () => {
    it.each([
      ['ConfigApiHandler', 'index.handler'],
      ['ChangeEventsCacheRefresh', 'index.handler'],
    ])('%s runs Node.js 24 on ARM64 inside the VPC, in the cache-client group, on isolated subnets', (prefix, handler) => {
      const fnId = idOf(template, 'AWS::Lambda::Function', `${prefix}Function`);
      const fn = template.findResources('AWS::Lambda::Function')[fnId].Properties;
      expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: handler });
      expect(fn.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::ImportValue': expect.stringMatching(/CacheClientGroup/) }]);
      for (const subnet of fn.VpcConfig.SubnetIds) expect(subnet).toEqual({ 'Fn::ImportValue': expect.stringMatching(/isolatedSubnet/) });
    });

    it('gives the config-api its settings, the page-token key by its Parameter Store reference, and the cache by the CACHE_* variables', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('HTTP API'),
        Environment: {
          Variables: Match.objectLike({
            TABLE_NAME: Match.anyValue(),
            SSM_ROOT: 'tenant-config',
            STAGE: 'dev',
            PAGE_TOKEN_SECRET_PARAMETER: '/aws/reference/secretsmanager/tenant-config/dev/page-token',
            TENANT_CLAIM: 'tenant_id',
            ADMIN_GROUP: 'config-admins',
            REQUIRE_TENANT_REGISTRATION: 'false',
            SSM_KMS_KEY_ID: Match.anyValue(),
            CACHE_REDIS_HOST: { 'Fn::ImportValue': Match.stringLikeRegexp('EndpointAddress') },
            CACHE_REDIS_PORT: { 'Fn::ImportValue': Match.stringLikeRegexp('EndpointPort') },
            CACHE_REDIS_TLS: 'true',
            CACHE_REDIS_CLUSTER: 'true',
            CACHE_REDIS_USERNAME: 'config-service',
            CACHE_REDIS_PASSWORD_PARAMETER: '/aws/reference/secretsmanager/tenant-config/dev/cache-auth',
            CACHE_NAMESPACE: 'tc',
          }),
        },
      });
    });

    it('never puts a secret value in an environment variable', () => {
      for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
        const variables = ((fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {}) as Record<string, unknown>;
        expect(Object.keys(variables).filter((k) => /PASSWORD$|SECRET$|TOKEN$/.test(k))).toEqual([]);
        expect(JSON.stringify(variables)).not.toContain('resolve:secretsmanager');
      }
    });

    it('sends events the cache-refresh failed on to a DLQ after two retries', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: idOf(template, 'AWS::Lambda::Function', 'ChangeEventsCacheRefreshFunction') },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue', 'ChangeEventsRefreshFailures'), 'Arn'] } } },
      });
    });
  });

  describe('HTTP API', () => {
    it('checks Cognito access tokens: issuer of the user pool and the app client as audience', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Issuer: {
            'Fn::Join': [
              '',
              ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { 'Fn::ImportValue': Match.stringLikeRegexp('UserPool') }],
            ],
          },
          // The user client, then the admin console's (its own stack's, hence a Ref).
          Audience: [{ 'Fn::ImportValue': Match.stringLikeRegexp('ServiceClient') }, { Ref: Match.stringLikeRegexp('^ConsoleClient') }],
        },
      });
    });

    it('has every route of docs/design.md §4.1 and §8.2, each behind the JWT authorizer, and no other route', () => {
      const authorizerId = idOf(template, 'AWS::ApiGatewayV2::Authorizer', 'ConfigApiCognitoAccessToken');
      const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!);
      const expected = CONFIG_API_ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).sort();
      expect(routes.map((r) => r.RouteKey).sort()).toEqual(expected);
      // The handler's own route table is the list (test/lambda/config-api/routes.test.ts spells it out).
      expect(expected).toEqual([...ROUTE_KEYS].sort());
      for (const route of routes) expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    });

    it('logs every request (tenant and subject, never values) and throttles the stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('authorizer.claims.tenant_id') },
        DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000, DetailedMetricsEnabled: true },
      });
    });

    it('maps the custom domain with the certificate when one is configured', () => {
      tls.templates.service.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: 'config.example.com',
        DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERTIFICATE_ARN, SecurityPolicy: 'TLS_1_2' })],
      });
      tls.templates.service.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
      template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    });
  });

  describe('change routing', () => {
    it('pipes the table stream to the config-changes bus with the registry filter and its own DLQ', () => {
      const busId = idOf(template, 'AWS::Events::EventBus', 'ChangeEventsBus');
      template.hasResourceProperties('AWS::Events::EventBus', { Name: 'tenant-config-dev-config-changes' });
      template.hasResourceProperties('AWS::Pipes::Pipe', {
        Source: { 'Fn::ImportValue': Match.stringLikeRegexp('StreamArn') },
        Target: { 'Fn::GetAtt': [busId, 'Arn'] },
        TargetParameters: { EventBridgeEventBusParameters: { Source: 'tenantconfig.pipe', DetailType: 'DynamoDB Stream Record' } },
        SourceParameters: {
          DynamoDBStreamParameters: Match.objectLike({
            StartingPosition: 'LATEST',
            MaximumRetryAttempts: 8,
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue', 'ChangeEventsPipeFailures'), 'Arn'] } },
          }),
          FilterCriteria: {
            Filters: [
              { Pattern: JSON.stringify({ dynamodb: { Keys: { configKey: { S: [{ prefix: 'tenantconfig:' }, { prefix: 'flags:' }] } } } }) },
              // Tenant registry rows: a tenant's attributes refresh its @attributes cache entry.
              { Pattern: JSON.stringify({ dynamodb: { Keys: { tenantId: { S: ['_registry'] } } } }) },
            ],
          },
        },
      });
    });

    it('routes table changes from the bus, and only this stage’s Parameter Store changes from the default bus, to cache-refresh with retries and a DLQ', () => {
      const fnId = idOf(template, 'AWS::Lambda::Function', 'ChangeEventsCacheRefreshFunction');
      const busId = idOf(template, 'AWS::Events::EventBus', 'ChangeEventsBus');
      const target = (dlqPrefix: string) => [
        {
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          Id: Match.anyValue(),
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue', dlqPrefix), 'Arn'] } },
        },
      ];
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: busId },
        EventPattern: Match.objectLike({
          source: ['tenantconfig.pipe'],
          'detail-type': ['DynamoDB Stream Record'],
          detail: Match.objectLike({ dynamodb: { Keys: { configKey: { S: [{ 'anything-but': { prefix: '#' } }] } } } }),
        }),
        Targets: target('ChangeEventsTableChangeRuleFailures'),
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: Match.absent(),
        EventPattern: {
          source: ['aws.ssm'],
          'detail-type': ['Parameter Store Change'],
          detail: { name: [{ prefix: '/tenant-config/dev/tenants/' }], operation: ['Create', 'Update', 'Delete'] },
        },
        Targets: target('ChangeEventsParameterChangeRuleFailures'),
      });
    });

    it('encrypts every DLQ, refuses non-TLS access to them, and keeps messages 14 days', () => {
      const queues = resourcesOf(template, 'AWS::SQS::Queue');
      expect(queues).toHaveLength(4);
      for (const [id, queue] of queues) {
        expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
        });
      }
    });
  });

  describe('fanout', () => {
    it('runs the image built from its Dockerfile on Fargate ARM64, with Container Insights', () => {
      template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RequiresCompatibilities: ['FARGATE'],
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
        ContainerDefinitions: [
          Match.objectLike({
            Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') },
            PortMappings: [Match.objectLike({ ContainerPort: 50051, Protocol: 'tcp' }), Match.objectLike({ ContainerPort: 8081, Protocol: 'tcp' })],
            ReadonlyRootFilesystem: true,
            StopTimeout: 30,
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
            Environment: Match.arrayWith([
              { Name: 'GRPC_PORT', Value: '50051' },
              { Name: 'EVENTS_PORT', Value: '8081' },
              { Name: 'JWT_ISSUER', Value: Match.anyValue() },
              // The user client and the admin console's.
              {
                Name: 'JWT_AUDIENCE',
                Value: {
                  'Fn::Join': ['', [{ 'Fn::ImportValue': Match.stringLikeRegexp('ServiceClient') }, ',', { Ref: Match.stringLikeRegexp('^ConsoleClient') }]],
                },
              },
              { Name: 'DRAIN_DEADLINE_MS', Value: '20000' },
              { Name: 'CACHE_REDIS_PASSWORD_PARAMETER', Value: '/aws/reference/secretsmanager/tenant-config/dev/cache-auth' },
            ]),
          }),
        ],
      });
    });

    it('runs the tasks in the private subnets (egress for the JWKS), with a rollback circuit breaker', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DesiredCount: 2,
        DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
        NetworkConfiguration: {
          AwsvpcConfiguration: Match.objectLike({
            AssignPublicIp: 'DISABLED',
            Subnets: Match.arrayWith([{ 'Fn::ImportValue': Match.stringLikeRegexp('fanoutSubnet') }]),
          }),
        },
      });
    });

    it('keeps deregistering targets longer than the fanout drains, with TCP health checks', () => {
      const task = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0][1];
      const env = (task.Properties?.ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: string }> }>)[0].Environment;
      const drainSeconds = Number(env.find((e) => e.Name === 'DRAIN_DEADLINE_MS')!.Value) / 1000;
      const group = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0][1].Properties!;
      const attributes = group.TargetGroupAttributes as Array<{ Key: string; Value: string }>;
      const delay = Number(attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')!.Value);
      expect(delay).toBeGreaterThan(drainSeconds);
      expect(group).toMatchObject({ Port: 50051, Protocol: 'TCP', TargetType: 'ip', HealthCheckProtocol: 'TCP', HealthCheckPort: '50051' });
    });

    it('is an internal TCP load balancer without a certificate, and a public TLS (h2) one with it', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internal' });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'TCP', Port: 50051 });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'TCP', Port: 8081 });
      const secure = tls.templates.service;
      secure.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Type: 'network',
        Scheme: 'internet-facing',
        LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
      });
      secure.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'TLS',
        Port: 443,
        Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
        AlpnPolicy: ['HTTP2Only'],
        SslPolicy: Match.stringLikeRegexp('TLS13'),
      });
      // The events (SSE) listener: HTTP/1.1 over TLS on 8443, for browsers.
      secure.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'TLS',
        Port: 8443,
        Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
        AlpnPolicy: ['HTTP1Only'],
        SslPolicy: Match.stringLikeRegexp('TLS13'),
      });
      // Plus the internal events-only NLB's TCP listener, the console's VPC origin (test/cdk/admin-console.test.ts).
      secure.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 3);
    });

    it('lets only the load balancer reach the tasks, on the gRPC and events ports', () => {
      const lbGroup = idOf(template, 'AWS::EC2::SecurityGroup', 'FanoutLoadBalancerGroup');
      for (const port of [50051, 8081]) {
        template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
          GroupId: { 'Fn::GetAtt': [idOf(template, 'AWS::EC2::SecurityGroup', 'FanoutTaskGroup'), 'GroupId'] },
          SourceSecurityGroupId: { 'Fn::GetAtt': [lbGroup, 'GroupId'] },
          FromPort: port,
          ToPort: port,
        });
      }
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.40.0.0/16', FromPort: 50051 }), Match.objectLike({ CidrIp: '10.40.0.0/16', FromPort: 8081 })],
      });
    });

    it('serves the events (SSE) through a target group of their own, health-checked on /healthz, and outputs their URL', () => {
      const groups = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([, g]) => g.Properties!);
      const events = groups.find((g) => g.Port === 8081)!;
      const grpc = groups.find((g) => g.Port === 50051)!;
      expect(events).toMatchObject({ Protocol: 'TCP', TargetType: 'ip', HealthCheckProtocol: 'HTTP', HealthCheckPort: '8081', HealthCheckPath: '/healthz' });
      // Drained like the Watch: the same deregistration delay.
      expect(events.TargetGroupAttributes).toEqual(grpc.TargetGroupAttributes);
      template.hasOutput('EventsEndpoint', {
        Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^FanoutLoadBalancer'), 'DNSName'] }, ':8081/v1/events']] },
      });
      tls.templates.service.hasOutput('EventsEndpoint', { Value: { 'Fn::Join': ['', ['https://', Match.anyValue(), ':8443/v1/events']] } });
    });

    it('scales on CPU and on open streams per task', () => {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        }),
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          CustomizedMetricSpecification: {
            Namespace: 'TenantConfig',
            MetricName: 'StreamsOpen',
            Statistic: 'Average',
            Dimensions: [{ Name: 'service', Value: 'fanout' }],
          },
        }),
      });
    });
  });

  it('traces every function with X-Ray and never copies a response into a trace', () => {
    // Ours: BucketDeployment's handler (the admin console's files) and AwsCustomResource's (the
    // CloudFront prefix list lookup) are aws-cdk-lib's own, which it configures.
    const functions = [...resourcesOf(template, 'AWS::Lambda::Function'), ...resourcesOf(dev.templates.data, 'AWS::Lambda::Function')].filter(
      ([id]) => !id.startsWith('CustomCDKBucketDeployment') && !id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const [id, fn] of functions) {
      const env = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect({ id, tracing: fn.Properties!.TracingConfig, captureResponse: env.POWERTOOLS_TRACER_CAPTURE_RESPONSE }).toEqual({
        id,
        tracing: { Mode: 'Active' },
        captureResponse: 'false',
      });
    }
  });

  describe('least privilege', () => {
    /** Actions allowed on every resource: none of them reads or writes configuration data. */
    const NON_DATA_ACTIONS_ON_ANY_RESOURCE = new Set([
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
      'ssm:DescribeParameters',
      'cloudwatch:DescribeAlarms',
      'ecr:GetAuthorizationToken',
      // Active tracing (X-Ray has no resource-level permissions for sending segments).
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      // BucketDeployment (the admin console) invalidates its distribution's cache: no resource-level permission.
      'cloudfront:CreateInvalidation',
      // The CloudFront origin-facing prefix list's id, read at deploy time (the fanout's events VPC origin).
      'ec2:DescribeManagedPrefixLists',
      'cloudfront:GetInvalidation',
    ]);

    it.each(['service', 'data', 'network'] as const)('the %s stack has no Action "*" and no data action on Resource "*"', (stack) => {
      const t = dev.templates[stack];
      const statements = [
        ...resourcesOf(t, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement),
        ...resourcesOf(t, 'AWS::IAM::Role').flatMap(([, r]) =>
          ((r.Properties!.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>).flatMap(
            (p) => p.PolicyDocument.Statement,
          ),
        ),
      ];
      for (const statement of statements) {
        const actions = [statement.Action].flat() as string[];
        expect(actions).not.toContain('*');
        for (const action of actions) expect(action).not.toMatch(/:\*$/);
        if ([statement.Resource].flat().includes('*')) {
          for (const action of actions) expect(NON_DATA_ACTIONS_ON_ANY_RESOURCE).toContain(action);
        }
      }
    });

    it('gives write actions to the config-api only', () => {
      const writes = /^(dynamodb:(PutItem|DeleteItem|UpdateItem|BatchWriteItem)|ssm:(PutParameter|DeleteParameter)|kms:(Encrypt|GenerateDataKey))$/;
      expect([...new Set(actionsOfRole(template, 'ConfigApiHandlerRole').filter((a) => writes.test(a)))].sort()).toEqual([
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:PutItem',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'ssm:DeleteParameter',
        'ssm:PutParameter',
      ]);
      for (const role of ['ChangeEventsCacheRefreshRole', 'FanoutTaskTaskRole']) {
        expect(actionsOfRole(template, role).filter((a) => writes.test(a))).toEqual([]);
      }
    });

    it('scopes Parameter Store access to this stage’s tenant subtree, and the SecureString key to it', () => {
      const subtree = {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/tenant-config/dev/tenants/*'],
        ],
      };
      for (const role of ['ConfigApiHandlerRole', 'ChangeEventsCacheRefreshRole', 'FanoutTaskTaskRole']) {
        const statements = statementsOfRole(template, role);
        expect(statements.find((s) => s.Sid === 'TenantParameters')).toMatchObject({ Resource: subtree });
        expect(statements.find((s) => s.Sid === 'SecureStringKey')).toMatchObject({
          Condition: { StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': subtree }, StringEquals: { 'kms:ViaService': expect.anything() } },
        });
      }
    });

    it('lets cache-refresh read Parameter Store and nothing of the table (stream images carry the values)', () => {
      const actions = actionsOfRole(template, 'ChangeEventsCacheRefreshRole');
      expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
      expect(actions.filter((a) => a.startsWith('ssm:')).sort()).toEqual(['ssm:DescribeParameters', 'ssm:GetParameter', 'ssm:GetParameter']);
    });

    it('lets each component read only the secrets it uses, each through its Parameter Store reference', () => {
      const reference = (name: string) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':ssm:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            `:parameter/aws/reference/secretsmanager/tenant-config/dev/${name}`,
          ],
        ],
      });
      const secretReads = (role: string) =>
        statementsOfRole(template, role)
          .filter((s) => [s.Action].flat().some((a) => String(a).startsWith('secretsmanager:') || s.Sid?.toString().endsWith('Reference')))
          .map((s) => ({ Sid: s.Sid, Action: s.Action, Resource: s.Resource }));
      expect(secretReads('ConfigApiHandlerRole')).toEqual([
        { Sid: 'PageTokenKeyReference', Action: 'ssm:GetParameter', Resource: reference('page-token') },
        {
          Sid: 'PageTokenKey',
          Action: 'secretsmanager:GetSecretValue',
          Resource: { Ref: idOf(template, 'AWS::SecretsManager::Secret', 'ConfigApiPageTokenKey') },
        },
        { Sid: 'CacheCredentialsReference', Action: 'ssm:GetParameter', Resource: reference('cache-auth') },
        { Sid: 'CacheCredentials', Action: 'secretsmanager:GetSecretValue', Resource: { 'Fn::ImportValue': expect.stringMatching(/CacheCredentials/) } },
      ]);
      for (const role of ['ChangeEventsCacheRefreshRole', 'FanoutTaskTaskRole']) {
        expect(secretReads(role).map((s) => s.Sid)).toEqual(['CacheCredentialsReference', 'CacheCredentials']);
      }
    });

    it('lets the Pipe read only the table stream and put only on its bus', () => {
      const actions = actionsOfRole(template, 'ChangeEventsPipeRole').sort();
      expect(actions).toEqual([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'events:PutEvents',
        'kms:Decrypt',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
      ]);
    });
  });

  describe('alarms and dashboard', () => {
    const metricsOfAlarms = () => resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);

    it('alarms on every DLQ holding a message', () => {
      const queueIds = resourcesOf(template, 'AWS::SQS::Queue')
        .map(([id]) => id)
        .sort();
      const watched = metricsOfAlarms()
        .filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')
        .map((a) => (a.Dimensions as Array<{ Value: { 'Fn::GetAtt': [string, string] } }>)[0].Value['Fn::GetAtt'][0])
        .sort();
      expect(watched).toEqual(queueIds);
    });

    it('alarms on errors and throttles of every function', () => {
      const byMetric = (name: string) => metricsOfAlarms().filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === name);
      expect(byMetric('Errors')).toHaveLength(4);
      expect(byMetric('Throttles')).toHaveLength(4);
    });

    it('alarms on refresh lag, API 5xx and unhealthy fanout hosts, all to the alarm topic', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'TenantConfig',
        MetricName: 'RefreshLagMs',
        ExtendedStatistic: 'p99',
        Threshold: 10000,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/NetworkELB', MetricName: 'UnHealthyHostCount' });
      const topicId = idOf(template, 'AWS::SNS::Topic', 'MonitoringAlarms');
      for (const alarm of metricsOfAlarms()) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
    });

    it('has one dashboard', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'tenant-config-dev' });
    });
  });

  it('matches the reviewed snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
