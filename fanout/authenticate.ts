/**
 * Who is watching: the principal of a Watch call comes from the verified token in the
 * `authorization` metadata and from nowhere else. The claims mean what they mean on the HTTP
 * edge: both call core's principalFromClaims. Which tenants the call follows is decided after
 * this, from `WatchRequest.tenants` and the principal's rights (tenant-selection.ts): a token
 * names at most its own tenant, and services and operators name none.
 */
import type { Metadata } from '@grpc/grpc-js';
import { UnauthenticatedError } from '../core/errors';
import { MAX_BEARER_TOKEN_LENGTH, principalFromClaims, type Principal, type PrincipalOptions } from '../core/principal';
import type { TokenVerifier } from './token-verifier';

export interface Watcher {
  readonly principal: Principal;
  readonly subject: string;
  /** When the token stops being valid: the stream is ended with UNAUTHENTICATED then. */
  readonly expiresAtMs: number;
}

export function bearerToken(metadata: Metadata): string {
  const values = metadata.get('authorization');
  if (values.length === 0)
    throw new UnauthenticatedError("a Bearer token is required in 'authorization' (gRPC metadata, or the HTTP header of the events endpoint)");
  if (values.length > 1) throw new UnauthenticatedError("'authorization' must be sent once");
  const raw = values[0];
  const match = typeof raw === 'string' ? /^Bearer +([A-Za-z0-9\-_.]+)$/i.exec(raw.trim()) : null;
  if (!match || match[1].length > MAX_BEARER_TOKEN_LENGTH) {
    throw new UnauthenticatedError("'authorization' must be 'Bearer <JWT>'");
  }
  return match[1];
}

export async function authenticate(metadata: Metadata, verifier: TokenVerifier, options: PrincipalOptions): Promise<Watcher> {
  const claims = await verifier.verify(bearerToken(metadata));
  const principal = principalFromClaims(claims, options);
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new UnauthenticatedError('the token has no expiry');
  return { principal, subject: principal.subject, expiresAtMs: exp * 1000 };
}
