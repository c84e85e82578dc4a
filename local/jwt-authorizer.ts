/**
 * What API Gateway's HTTP API JWT authorizer does, on aws-jwt-verify: take the token from
 * `Authorization` (bare or after `Bearer `), check the RS256 signature against the issuer's
 * JWKS, `iss`, `aud` — or `client_id` when there is no `aud`, as API Gateway does for
 * Cognito access tokens —, `exp` (required), `nbf` and `iat`. It does not look at
 * `token_use` or the tenant claim: the handler does that, as on AWS.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { checkCognitoClaims, describeJwtFailure, pinnedJwksCache, type AllowedClients } from '../adapters/jwt/cognito-jwt';

export interface JwtAuthorizerConfig {
  /** The user pool's issuer URL, exactly as tokens carry it in `iss`. */
  readonly issuer: string;
  /** Accepted app client ids: matched against `aud`, or `client_id` when `aud` is absent. */
  readonly audience: readonly string[];
  /** Accept client-credentials tokens of any app client of the pool (the local pool only). @default false */
  readonly anyServiceClient?: boolean;
  /** The pool's public keys; the authorizer never fetches them. */
  readonly jwks: unknown;
  /** Only a cache key for the JWKS. @default `${issuer}/.well-known/jwks.json` */
  readonly jwksUri?: string;
  /** Verified tokens remembered (until their `exp`), so a client's repeated calls skip the RSA check. @default 10000; 0 turns it off */
  readonly verifiedTokenCacheSize?: number;
}

export type AuthorizationResult =
  | { readonly authorized: true; readonly claims: JwtPayload }
  | {
      readonly authorized: false;
      /** API Gateway's `www-authenticate` value for this failure. */
      readonly wwwAuthenticate: string;
      /** Why, for logs; also in `wwwAuthenticate`. */
      readonly reason: string;
    };

export interface JwtAuthorizer {
  authorize(authorizationHeader: string | undefined): Promise<AuthorizationResult>;
}

/** Builds the authorizer; throws at once when the JWKS is not a usable JWKS. */
export function createJwtAuthorizer(config: JwtAuthorizerConfig): JwtAuthorizer {
  if (config.audience.length === 0) throw new Error('JWT authorizer: at least one audience (app client id) is required');
  const jwksUri = config.jwksUri ?? `${config.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
  const allowed: AllowedClients = { ids: new Set(config.audience), anyServiceClient: config.anyServiceClient };
  // A fetcher that refuses: a token with an unknown kid must fail at once, not reach out to the network.
  const jwksCache = pinnedJwksCache();
  const verifier = JwtRsaVerifier.create(
    {
      issuer: config.issuer,
      jwksUri,
      // aws-jwt-verify only knows `aud`; the aud-or-client_id rule is checked below.
      audience: null,
      customJwtCheck: ({ payload }) => checkCognitoClaims(payload, allowed),
    },
    { jwksCache },
  );
  verifier.cacheJwks(config.jwks as Jwks);
  const verified = new VerifiedTokens(config.verifiedTokenCacheSize ?? 10_000);

  return {
    async authorize(header) {
      const token = extractToken(header);
      if (token === undefined) return { authorized: false, wwwAuthenticate: 'Bearer', reason: 'no token' };
      const known = verified.get(token);
      if (known) return { authorized: true, claims: known };
      try {
        const claims = verifier.verifySync(token);
        verified.remember(token, claims);
        return { authorized: true, claims };
      } catch (e) {
        const reason = describeJwtFailure(e);
        return {
          authorized: false,
          reason,
          wwwAuthenticate: `Bearer scope="" error="invalid_token" error_description="${reason}"`,
        };
      }
    },
  };
}

/** API Gateway accepts the identity source as the bare token or prefixed with `Bearer `. */
function extractToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const token = /^bearer(\s+|$)/i.test(trimmed) ? trimmed.replace(/^bearer\s*/i, '') : trimmed;
  return token.length > 0 ? token : undefined;
}

/**
 * Tokens that passed every check, kept until their `exp` (a bounded map, oldest out first).
 * Only successes are kept: a refused token is checked again each time. The signature, issuer
 * and audience of a token never change, and `exp` is checked again on every hit, so a hit
 * answers exactly what a full verification would (nbf/iat had already passed when it was kept).
 */
class VerifiedTokens {
  private readonly entries = new Map<string, JwtPayload>();

  constructor(private readonly capacity: number) {}

  get(token: string): JwtPayload | undefined {
    const claims = this.entries.get(token);
    if (!claims) return undefined;
    if ((claims.exp as number) <= Date.now() / 1000) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  remember(token: string, claims: JwtPayload): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, Object.freeze(claims));
  }
}
