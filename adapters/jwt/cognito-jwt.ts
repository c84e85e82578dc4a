/**
 * The parts of Cognito-token checking that API Gateway's JWT authorizer (the local front)
 * and the fanout's own verifier share, on aws-jwt-verify.
 */
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import {
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';

/** A claim check of ours failed; its message is safe to return to the caller. */
export class ClaimError extends Error {}

/**
 * `exp` is required, `iat` may not lie in the future, and the audience is `aud` when present,
 * else `client_id` — how API Gateway evaluates Cognito access tokens, which carry `client_id`
 * and no `aud`. Both edges (the HTTP authorizer and the fanout) apply exactly these checks.
 */
/**
 * The app clients a verifier accepts: the listed ids, and with `anyServiceClient` every
 * client-credentials client of the pool — only for the local pool, whose dev signer mints
 * service tokens for any service name as if each were a registered app client.
 */
export interface AllowedClients {
  readonly ids: ReadonlySet<string>;
  readonly anyServiceClient?: boolean;
}

export function checkCognitoClaims(payload: JwtPayload, allowed: AllowedClients, nowSeconds = Date.now() / 1000): void {
  if (typeof payload.exp !== 'number') throw new ClaimError('the token has no expiry');
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds) throw new ClaimError('the token was issued in the future');
  const audiences =
    payload.aud !== undefined ? (Array.isArray(payload.aud) ? payload.aud : [payload.aud]) : typeof payload.client_id === 'string' ? [payload.client_id] : [];
  // A client-credentials token has no user: no username (Cognito's shape for the grant).
  const serviceClient = allowed.anyServiceClient === true && payload.username === undefined && audiences.length > 0;
  if (!serviceClient && !audiences.some((a) => allowed.ids.has(a))) throw new ClaimError('the token does not have a valid audience');
}

/** Why a token was refused, in words fit for a 401 or an UNAUTHENTICATED status (never the token itself). */
export function describeJwtFailure(e: unknown): string {
  if (e instanceof ClaimError) return e.message;
  if (e instanceof JwtExpiredError) return 'the token has expired';
  if (e instanceof JwtNotBeforeError) return 'the token is not valid yet';
  if (e instanceof JwtInvalidIssuerError) return 'the token does not have a valid issuer';
  if (e instanceof JwtInvalidAudienceError) return 'the token does not have a valid audience';
  if (e instanceof JwtInvalidSignatureAlgorithmError) return 'the token signing algorithm is not supported';
  if (e instanceof JwtInvalidSignatureError) return 'the token signature is invalid';
  if (e instanceof JwtWithoutValidKidError || e instanceof KidNotFoundInJwksError) return 'the token is not signed by a known key';
  return 'the token is malformed';
}

/** A JWKS cache that never fetches: with a pinned JWKS an unknown `kid` fails at once instead of reaching the network. */
export function pinnedJwksCache(): SimpleJwksCache {
  return new SimpleJwksCache({
    fetcher: {
      fetch: async () => {
        throw new Error('JWKS is pinned; not fetching');
      },
    },
  });
}
