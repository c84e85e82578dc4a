/**
 * Cognito pre-token-generation trigger (event version V2): copies the user's immutable
 * `custom:tenant_id` attribute into the ACCESS token as `tenant_id`, the claim the HTTP API's
 * handlers and the fanout take the tenant from. Only the user-pool attribute is trusted —
 * never client metadata — and a malformed value is left out (the API then answers 403),
 * never passed on.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { TENANT_ID_PATTERN } from '../../core/tenant';

export interface TenantClaimOptions {
  /** The user attribute holding the tenant. @default 'custom:tenant_id' */
  readonly attribute: string;
  /** The access-token claim to write. @default 'tenant_id' */
  readonly claim: string;
}

export const DEFAULT_TENANT_CLAIM_OPTIONS: TenantClaimOptions = { attribute: 'custom:tenant_id', claim: 'tenant_id' };

/** Claims Cognito owns; overriding them is refused by Cognito, and would be a bug here. */
const RESERVED_CLAIMS = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'jti', 'token_use', 'client_id', 'scope', 'username', 'cognito:groups']);

export type TenantClaimOutcome = 'added' | 'missing' | 'malformed';

/** Returns the event with the claim added (the input is not modified) and what happened. */
export function addTenantClaim(
  event: PreTokenGenerationV2TriggerEvent,
  options: TenantClaimOptions = DEFAULT_TENANT_CLAIM_OPTIONS,
): { event: PreTokenGenerationV2TriggerEvent; outcome: TenantClaimOutcome } {
  const raw = event.request?.userAttributes?.[options.attribute];
  if (raw === undefined || raw === '') return { event, outcome: 'missing' };
  if (!TENANT_ID_PATTERN.test(raw)) return { event, outcome: 'malformed' };
  const details = event.response?.claimsAndScopeOverrideDetails ?? {};
  const access = details.accessTokenGeneration ?? {};
  return {
    outcome: 'added',
    event: {
      ...event,
      response: {
        ...event.response,
        claimsAndScopeOverrideDetails: {
          ...details,
          accessTokenGeneration: {
            ...access,
            claimsToAddOrOverride: { ...access.claimsToAddOrOverride, [options.claim]: raw },
          },
        },
      },
    },
  };
}

/** The options from TENANT_ATTRIBUTE / TENANT_CLAIM, checked once at start. */
export function tenantClaimOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): TenantClaimOptions {
  const attribute = env.TENANT_ATTRIBUTE?.trim() || DEFAULT_TENANT_CLAIM_OPTIONS.attribute;
  const claim = env.TENANT_CLAIM?.trim() || DEFAULT_TENANT_CLAIM_OPTIONS.claim;
  if (!/^custom:[A-Za-z0-9_]{1,20}$/.test(attribute)) throw new Error(`TENANT_ATTRIBUTE must name a custom attribute (custom:<name>), got '${attribute}'`);
  if (!/^[A-Za-z0-9_:.-]{1,128}$/.test(claim) || RESERVED_CLAIMS.has(claim)) {
    throw new Error(`TENANT_CLAIM must be a claim name Cognito does not reserve, got '${claim}'`);
  }
  return { attribute, claim };
}

const logger = new Logger({ serviceName: 'pre-token-generation' });
let options: TenantClaimOptions | undefined;

export async function handler(event: PreTokenGenerationV2TriggerEvent): Promise<PreTokenGenerationV2TriggerEvent> {
  options ??= tenantClaimOptionsFromEnv(process.env);
  const result = addTenantClaim(event, options);
  if (result.outcome !== 'added') {
    // The value itself is not logged: it is user data that failed validation.
    logger.warn('access token issued without a tenant claim', {
      outcome: result.outcome,
      userPoolId: event.userPoolId,
      userName: event.userName,
      trigger: event.triggerSource,
    });
  }
  return result.event;
}
