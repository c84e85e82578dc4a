/**
 * A flag evaluated for a tenant on the server (`GET /v1/flags/{name}/evaluate` and its
 * `/v1/tenants/{tenantId}` twin): the tenant's effective `flags:<name>` value (its own, else its
 * segment's, else the platform's — ConfigService.get, so the same tag rights and registration
 * checks apply) and its registry attributes, through the one evaluator the SDK uses too.
 */
import type { TenantAccess } from './access-policy';
import type { ConfigService } from './config-service';
import { NotFoundError } from './errors';
import { evaluateFlag, type FlagContext, type FlagEvaluation } from './flags/evaluate-flag';
import { parseKey } from './key';

export const FLAGS_TAG = 'flags';

/** The key of flag `name`: `flags:<name>`, checked with the key grammar (InvalidKeyError saying why). */
export const flagKey = (name: string): string => parseKey(`${FLAGS_TAG}:${name}`).raw;

export async function evaluateTenantFlag(service: ConfigService, access: TenantAccess, name: string, context: FlagContext): Promise<FlagEvaluation> {
  const key = flagKey(name);
  const [value, tenantAttributes] = await Promise.all([
    service.get(access, key).then(
      (item) => item.value,
      (error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      },
    ),
    service.attributesOf(access),
  ]);
  return evaluateFlag(name, value, { tenantId: access.tenant, tenantAttributes, context });
}
