/**
 * The SDK's side of flag evaluation: the evaluator itself is core/flags/evaluate-flag.ts, bundled
 * into the package (the one exception to "client/ imports types only" outside client/, checked
 * by test/client/dependency-rule.test.ts), so the SDK and the API cannot drift.
 */
import { evaluateFlag, type FlagErrorCode, type FlagReason, type FlagValueType } from '../core/flags/evaluate-flag';

export type { FlagErrorCode, FlagReason, FlagValueType } from '../core/flags/evaluate-flag';

/** OpenFeature's evaluation context: `targetingKey` (defaults to the tenant id) and attributes for rules. */
export type FlagEvaluationContext = Readonly<Record<string, unknown>> & { readonly targetingKey?: string };

export interface FlagDetails<T> {
  readonly flagKey: string;
  /** The flag's value, or the caller's fallback when there is none (any ERROR, DISABLED without an off variant). */
  readonly value: T;
  readonly variant?: string;
  readonly reason: FlagReason;
  /** `PROVIDER_NOT_READY` when the tenant is not loaded yet. */
  readonly errorCode?: FlagErrorCode | 'PROVIDER_NOT_READY';
  readonly errorMessage?: string;
}

/** The type a fallback asks for: a boolean fallback wants a boolean, and so on; null or undefined takes any value. */
export function expectedTypeOf(fallback: unknown): FlagValueType | undefined {
  if (fallback === null || fallback === undefined) return undefined;
  const t = typeof fallback;
  return t === 'boolean' || t === 'string' || t === 'number' || t === 'object' ? t : undefined;
}

export function flagDetailsOf<T>(
  flagKey: string,
  value: unknown,
  fallback: T,
  input: { tenantId: string; tenantAttributes: Readonly<Record<string, string>>; context?: FlagEvaluationContext; expectedType?: FlagValueType },
): FlagDetails<T> {
  const result = evaluateFlag(flagKey, value, { ...input, expectedType: input.expectedType ?? expectedTypeOf(fallback) });
  return { flagKey, ...result, value: result.value === undefined ? fallback : (result.value as T) };
}
