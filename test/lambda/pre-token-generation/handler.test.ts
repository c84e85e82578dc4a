import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import fc from 'fast-check';
import { TENANT_ID_PATTERN } from '../../../core/tenant';
import { addTenantClaim, handler, tenantClaimOptionsFromEnv } from '../../../lambda/pre-token-generation/handler';

/** A V2 trigger event as Cognito sends it (sign-in through the user-pool API). */
function triggerEvent(
  userAttributes: Record<string, string>,
  response: PreTokenGenerationV2TriggerEvent['response'] = { claimsAndScopeOverrideDetails: {} },
): PreTokenGenerationV2TriggerEvent {
  return {
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_AbCdEfGhI',
    userName: 'alice',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: '1example23456789' },
    request: {
      userAttributes: { sub: '0f1e2d3c-0000-4000-8000-000000000001', email: 'alice@example.com', ...userAttributes },
      groupConfiguration: { groupsToOverride: ['config-admins'], iamRolesToOverride: [], preferredRole: undefined },
      scopes: ['aws.cognito.signin.user.admin'],
    },
    response,
  };
}

const accessClaims = (event: PreTokenGenerationV2TriggerEvent) => event.response.claimsAndScopeOverrideDetails?.accessTokenGeneration?.claimsToAddOrOverride;

describe('pre-token-generation trigger', () => {
  it('copies custom:tenant_id into the access token as tenant_id', () => {
    const { event, outcome } = addTenantClaim(triggerEvent({ 'custom:tenant_id': 'acme' }));
    expect(outcome).toBe('added');
    expect(accessClaims(event)).toEqual({ tenant_id: 'acme' });
  });

  it('keeps what an earlier step already put in the response, and leaves the input untouched', () => {
    const input = triggerEvent(
      { 'custom:tenant_id': 'acme' },
      {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: { claimsToSuppress: ['email'] },
          accessTokenGeneration: { claimsToAddOrOverride: { plan: 'gold' }, scopesToAdd: ['config/read'] },
        },
      },
    );
    const before = JSON.stringify(input);
    const { event } = addTenantClaim(input);
    expect(event.response.claimsAndScopeOverrideDetails).toEqual({
      idTokenGeneration: { claimsToSuppress: ['email'] },
      accessTokenGeneration: { claimsToAddOrOverride: { plan: 'gold', tenant_id: 'acme' }, scopesToAdd: ['config/read'] },
    });
    expect(JSON.stringify(input)).toBe(before);
  });

  it('adds no claim for a user without a tenant, so the API answers 403', () => {
    const input = triggerEvent({});
    const { event, outcome } = addTenantClaim(input);
    expect(outcome).toBe('missing');
    expect(accessClaims(event)).toBeUndefined();
  });

  it('never passes on a malformed tenant', () => {
    for (const bad of ['acme/other', '../acme', 'acme#1', 'a'.repeat(65), '-acme', 'ac me']) {
      const { event, outcome } = addTenantClaim(triggerEvent({ 'custom:tenant_id': bad }));
      expect({ bad, outcome }).toEqual({ bad, outcome: 'malformed' });
      expect(accessClaims(event)).toBeUndefined();
    }
  });

  it('adds the claim for exactly the tenant ids the runtime accepts', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 70 }), (tenant) => {
        const { event, outcome } = addTenantClaim(triggerEvent({ 'custom:tenant_id': tenant }));
        if (TENANT_ID_PATTERN.test(tenant)) {
          expect(accessClaims(event)).toEqual({ tenant_id: tenant });
        } else {
          expect(outcome).toBe('malformed');
        }
      }),
    );
  });

  it('trusts the user-pool attribute only, never client metadata', () => {
    const input = triggerEvent({});
    input.request.clientMetadata = { 'custom:tenant_id': 'acme', tenant_id: 'acme' };
    expect(accessClaims(addTenantClaim(input).event)).toBeUndefined();
  });

  it('reads the attribute and claim names from the environment, refusing reserved claims', () => {
    expect(tenantClaimOptionsFromEnv({})).toEqual({ attribute: 'custom:tenant_id', claim: 'tenant_id' });
    expect(tenantClaimOptionsFromEnv({ TENANT_ATTRIBUTE: 'custom:org', TENANT_CLAIM: 'org_id' })).toEqual({ attribute: 'custom:org', claim: 'org_id' });
    expect(() => tenantClaimOptionsFromEnv({ TENANT_ATTRIBUTE: 'email' })).toThrow(/TENANT_ATTRIBUTE must name a custom attribute/);
    expect(() => tenantClaimOptionsFromEnv({ TENANT_CLAIM: 'sub' })).toThrow(/TENANT_CLAIM/);
    expect(() => tenantClaimOptionsFromEnv({ TENANT_CLAIM: 'cognito:groups' })).toThrow(/TENANT_CLAIM/);
  });

  it('the Lambda entry returns the event with the claim', async () => {
    const result = await handler(triggerEvent({ 'custom:tenant_id': 'tenant_42' }));
    expect(accessClaims(result)).toEqual({ tenant_id: 'tenant_42' });
    expect(result.userName).toBe('alice');
  });
});
