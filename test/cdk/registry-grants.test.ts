/**
 * The grants and the change routing follow the tag registry: a registry passed through props
 * (as a new tag in registry/tags.json would be) changes them with no change to lib/.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_TAG_REGISTRY, storeNeeds, type TagRegistryDocument } from '../../lib/config/tag-registry-data';
import { storeGrants } from '../../lib/service/store-access';
import { actionsOfRole, resourcesOf, statementsOfRole, synthesize } from './support/synth';

/** The Pipe's filter for tenant registry rows (registry/event-patterns.json): a tenant's attributes refresh its @attributes entry. */
const REGISTRY_FILTER = JSON.stringify({ dynamodb: { Keys: { tenantId: { S: ['_registry'] } } } });

const ROLES = { api: 'ConfigApiHandlerRole', refresh: 'ChangeEventsCacheRefreshRole', fanout: 'FanoutTaskTaskRole', driver: 'RolloutsHandlerRole' } as const;

/** The change path's rules (the rollout driver's schedule and alarm rules are its own). */
const changeRulesOf = (template: Template) =>
  resourcesOf(template, 'AWS::Events::Rule')
    .filter(([id]) => id.startsWith('ChangeEvents'))
    .map(([, r]) => r.Properties!.EventPattern as { source: string[] });

const registry = (tags: TagRegistryDocument['tags']): TagRegistryDocument => ({ tags });

describe('grants derived from the tag registry', () => {
  describe('storeGrants (the rules, as data)', () => {
    it('grants nothing on a store no tag uses', () => {
      const onlyDynamo = storeNeeds(registry({ plans: { backend: 'dynamodb', secret: false } }));
      for (const consumer of ['config-api', 'cache-refresh', 'fanout', 'rollout-driver'] as const) {
        expect(storeGrants(consumer, onlyDynamo).map((g) => g.store)).not.toContain('parameters');
      }
      const onlySsm = storeNeeds(registry({ settings: { backend: 'ssm', secret: false } }));
      expect(storeGrants('fanout', onlySsm).map((g) => g.store)).toEqual(['table', 'tableKey', 'parameters', 'parameterMetadata']);
      expect(storeGrants('cache-refresh', onlySsm).map((g) => g.store)).toEqual(['parameters', 'parameterMetadata']);
    });

    it('gives the rollout driver what one layer write or delete needs, never listings, history or index fills', () => {
      const both = storeNeeds(registry({ plans: { backend: 'dynamodb', secret: false }, settings: { backend: 'ssm', secret: true } }));
      const grants = Object.fromEntries(storeGrants('rollout-driver', both).map((g) => [g.store, g.actions]));
      expect([...grants.table].sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      expect(grants.parameters).toEqual(['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter']);
      expect(grants.parameterKey).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
      // The rollout records are in the tenant table whatever the registry holds; the cache refresh and the fanout never read them.
      const onlySsm = storeNeeds(registry({ settings: { backend: 'ssm', secret: false } }));
      for (const consumer of ['config-api', 'rollout-driver'] as const) {
        expect(storeGrants(consumer, onlySsm).find((g) => g.store === 'table')?.actions).toEqual(
          expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']),
        );
      }
    });

    it('gives the config-api the lease and key-index rows of the table, and the fanout the index reads, when only Parameter Store tags exist', () => {
      const onlySsm = storeNeeds(registry({ settings: { backend: 'ssm', secret: false } }));
      expect(storeGrants('config-api', onlySsm).find((g) => g.store === 'table')?.actions).toEqual([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ]);
      expect(storeGrants('fanout', onlySsm).find((g) => g.store === 'table')?.actions).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
      expect(storeGrants('cache-refresh', onlySsm).find((g) => g.store === 'table')).toBeUndefined();
    });

    it('adds the SecureString key exactly when a Parameter Store tag is secret', () => {
      const plain = storeNeeds(registry({ settings: { backend: 'ssm', secret: false } }));
      const secret = storeNeeds(registry({ settings: { backend: 'ssm', secret: false }, vault: { backend: 'ssm', secret: true } }));
      expect(storeGrants('config-api', plain).map((g) => g.store)).not.toContain('parameterKey');
      expect(storeGrants('config-api', secret).find((g) => g.store === 'parameterKey')?.actions).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
      expect(storeGrants('fanout', secret).find((g) => g.store === 'parameterKey')?.actions).toEqual(['kms:Decrypt']);
    });

    it('rejects a registry entry infrastructure cannot act on, naming the tag', () => {
      expect(() => storeNeeds(registry({ odd: { backend: 's3' as 'ssm', secret: false } }))).toThrow(/tag 'odd' has unknown backend 's3'/);
      expect(() => storeNeeds(registry({}))).toThrow(/no tags/);
    });
  });

  describe('synthesized', () => {
    let dynamoOnly: Template;
    let ssmOnly: Template;
    let withNewTags: Template;

    beforeAll(() => {
      dynamoOnly = synthesize({ bundle: false, tagRegistry: registry({ plans: { backend: 'dynamodb', secret: false } }) }).templates.service;
      ssmOnly = synthesize({ bundle: false, tagRegistry: registry({ settings: { backend: 'ssm', secret: false } }) }).templates.service;
      withNewTags = synthesize({
        bundle: false,
        tagRegistry: registry({
          ...DEFAULT_TAG_REGISTRY.tags,
          limits: { backend: 'dynamodb', secret: false },
          credentials: { backend: 'ssm', secret: true },
        }),
      }).templates.service;
    });

    it('a DynamoDB-only registry: no Parameter Store grant or rule anywhere, the Pipe admits its one tag', () => {
      for (const role of Object.values(ROLES)) {
        expect(actionsOfRole(dynamoOnly, role).filter((a) => a.startsWith('ssm:') && a !== 'ssm:GetParameter')).toEqual([]);
        expect(statementsOfRole(dynamoOnly, role).map((s) => s.Sid)).not.toContain('TenantParameters');
        expect(statementsOfRole(dynamoOnly, role).map((s) => s.Sid)).not.toContain('SecureStringKey');
      }
      expect(
        actionsOfRole(dynamoOnly, ROLES.api)
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      expect(
        actionsOfRole(dynamoOnly, ROLES.fanout)
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']);
      const rules = changeRulesOf(dynamoOnly);
      expect(rules.map((p) => p.source)).toEqual([['tenantconfig.pipe']]);
      dynamoOnly.hasResourceProperties('AWS::Pipes::Pipe', {
        SourceParameters: Match.objectLike({
          FilterCriteria: { Filters: [{ Pattern: Match.stringLikeRegexp('"S":\\[\\{"prefix":"plans:"\\}\\]') }, { Pattern: REGISTRY_FILTER }] },
        }),
      });
    });

    it('a Parameter Store-only registry: no Pipe, no table rule, table access only for leases and the key index', () => {
      ssmOnly.resourceCountIs('AWS::Pipes::Pipe', 0);
      const rules = changeRulesOf(ssmOnly);
      expect(rules.map((p) => p.source)).toEqual([['aws.ssm']]);
      expect(
        actionsOfRole(ssmOnly, ROLES.api)
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      expect(
        actionsOfRole(ssmOnly, ROLES.fanout)
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
      expect(actionsOfRole(ssmOnly, ROLES.refresh).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
      expect(
        // (ssm:GetParameter appears twice: the tenant parameters, and the cache password's reference)
        [...new Set(actionsOfRole(ssmOnly, ROLES.driver).filter((a) => a.startsWith('dynamodb:') || a.startsWith('ssm:')))].sort(),
      ).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'ssm:DeleteParameter',
        'ssm:DescribeParameters',
        'ssm:GetParameter',
        'ssm:PutParameter',
      ]);
      for (const role of Object.values(ROLES)) expect(statementsOfRole(ssmOnly, role).map((s) => s.Sid)).not.toContain('SecureStringKey');
      const api = resourcesOf(ssmOnly, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ConfigApiHandlerFunction'))![1];
      expect((api.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.SSM_KMS_KEY_ID).toBeUndefined();
    });

    it('new tags in the registry: the Pipe admits the new DynamoDB tag and the SecureString key is granted', () => {
      withNewTags.hasResourceProperties('AWS::Pipes::Pipe', {
        SourceParameters: Match.objectLike({
          FilterCriteria: {
            Filters: [
              {
                Pattern: JSON.stringify({
                  dynamodb: { Keys: { configKey: { S: [{ prefix: 'tenantconfig:' }, { prefix: 'flags:' }, { prefix: 'limits:' }] } } },
                }),
              },
              { Pattern: REGISTRY_FILTER },
            ],
          },
        }),
      });
      for (const role of Object.values(ROLES)) expect(statementsOfRole(withNewTags, role).map((s) => s.Sid)).toContain('SecureStringKey');
    });
  });
});
