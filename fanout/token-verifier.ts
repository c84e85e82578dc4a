/**
 * Verifies the Bearer JWT of a Watch call with aws-jwt-verify: RS256 signature against the
 * user pool's JWKS (fetched once and cached, or pinned), `iss`, `exp`/`nbf`, the audience —
 * `aud`, or `client_id` when there is no `aud`, as Cognito access tokens carry it — and
 * `token_use`. Built once per process; the same code checks Cognito's tokens in AWS and the
 * local dev signer's on one machine.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { ClaimError, checkCognitoClaims, describeJwtFailure, pinnedJwksCache, type AllowedClients } from '../adapters/jwt/cognito-jwt';
import { UnauthenticatedError } from '../core/errors';
import type { TokenClaims } from '../core/principal';

export type { TokenClaims };

/** The port the Watch handler needs; tests may inject any implementation. */
export interface TokenVerifier {
  /** The verified claims; rejects with {@link UnauthenticatedError} saying why. */
  verify(token: string): Promise<TokenClaims>;
}

export interface JwtVerifierSettings {
  /** The issuer exactly as tokens carry it in `iss`, e.g. `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  readonly issuer: string;
  /** Accepted app client ids, matched against `aud` or else `client_id`. At least one. */
  readonly audience: readonly string[];
  /** Accept client-credentials tokens of any app client of the pool (the local pool only). @default false */
  readonly anyServiceClient?: boolean;
  /** @default `${issuer}/.well-known/jwks.json` */
  readonly jwksUri?: string;
  /** A JWKS to pin: never fetched, an unknown `kid` fails at once (local dev signer, tests). */
  readonly jwks?: unknown;
  /** Required `token_use` claim; `null` skips the check. @default 'access' */
  readonly tokenUse?: 'access' | 'id' | null;
}

export interface JwtTokenVerifier extends TokenVerifier {
  /** Fetches the JWKS now (at start-up), so the first call does not pay for it. No-op when pinned. */
  hydrate(): Promise<void>;
}

export function createJwtVerifier(settings: JwtVerifierSettings): JwtTokenVerifier {
  if (settings.audience.length === 0) throw new Error('JWT verifier: at least one audience (app client id) is required');
  const issuer = settings.issuer.replace(/\/$/, '');
  const jwksUri = settings.jwksUri ?? `${issuer}/.well-known/jwks.json`;
  const allowed: AllowedClients = { ids: new Set(settings.audience), anyServiceClient: settings.anyServiceClient };
  const tokenUse = settings.tokenUse === undefined ? 'access' : settings.tokenUse;
  const pinned = settings.jwks !== undefined;
  const jwksCache = pinned ? pinnedJwksCache() : undefined;
  const verifier = JwtRsaVerifier.create(
    {
      issuer: settings.issuer,
      jwksUri,
      // aws-jwt-verify only knows `aud`; Cognito access tokens carry `client_id` instead (checked below).
      audience: null,
      customJwtCheck: ({ payload }) => checkClaims(payload, allowed, tokenUse),
    },
    jwksCache ? { jwksCache } : undefined,
  );
  if (pinned) verifier.cacheJwks(settings.jwks as Jwks);

  return {
    async verify(token) {
      try {
        return (await verifier.verify(token)) as TokenClaims;
      } catch (e) {
        throw new UnauthenticatedError(describeJwtFailure(e), { cause: e });
      }
    },
    async hydrate() {
      if (!pinned) await verifier.hydrate();
    },
  };
}

function checkClaims(payload: JwtPayload, allowed: AllowedClients, tokenUse: string | null): void {
  checkCognitoClaims(payload, allowed);
  if (tokenUse !== null && payload.token_use !== tokenUse) throw new ClaimError(`the token is not an ${tokenUse} token`);
}
