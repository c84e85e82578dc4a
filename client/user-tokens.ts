/**
 * Verifies an end user's access token for `forRequest` with aws-jwt-verify: RS256 signature
 * against the pool's JWKS, issuer, expiry, `token_use = access`, `client_id` (Cognito access
 * tokens carry no `aud`) and a tenant claim of the strict tenant grammar. What it returns is the
 * tenant the verified token names; nothing from an unverified token is ever used.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import {
  JwtExpiredError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwksNotAvailableInCacheError,
  FetchError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { UserTokenError, type UserTokenRefusal } from './errors';
import { isTenantId } from './tenant-id';

export interface UserTokenSettings {
  /** The user pool's issuer, exactly as tokens carry it in `iss`. */
  readonly issuer: string;
  /** The app client (or clients) whose users' tokens are accepted (`client_id`). */
  readonly clientId: string | readonly string[];
  /** @default `<issuer>/.well-known/jwks.json` */
  readonly jwksUri?: string;
  /** The claim holding the tenant id. @default 'tenant_id' */
  readonly tenantClaim?: string;
}

export interface VerifiedUser {
  readonly tenantId: string;
  readonly subject?: string;
}

export type UserTokenVerifier = (token: string) => Promise<VerifiedUser>;

const JWKS_FETCH_TIMEOUT_MS = 5_000;

/** Refusals found by our own checks, told apart from the library's by class. */
class ClaimRefusal extends Error {
  constructor(
    message: string,
    readonly reason: UserTokenRefusal,
  ) {
    super(message);
  }
}

export function defaultJwksUri(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/** aws-jwt-verify's own fetcher speaks https only; an http JWKS (a local pool) is read with fetch. */
function httpJwksCache(): SimpleJwksCache {
  return new SimpleJwksCache({
    fetcher: {
      fetch: async (uri: string) => {
        const res = await fetch(uri, { signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
        if (!res.ok) throw new FetchError(uri, `HTTP ${res.status}`);
        return res.arrayBuffer();
      },
    },
  });
}

function refusalOf(e: unknown): UserTokenRefusal {
  if (e instanceof ClaimRefusal) return e.reason;
  if (e instanceof JwtExpiredError || e instanceof JwtNotBeforeError) return 'expired';
  if (e instanceof JwtInvalidIssuerError) return 'issuer';
  if (e instanceof JwtInvalidSignatureError || e instanceof JwtInvalidSignatureAlgorithmError || e instanceof KidNotFoundInJwksError) return 'signature';
  if (e instanceof FetchError || e instanceof JwksNotAvailableInCacheError) return 'keys-unavailable';
  if (e instanceof JwtParseError) return 'malformed';
  return 'malformed';
}

export function createUserTokenVerifier(settings: UserTokenSettings): UserTokenVerifier {
  const clientIds = new Set(typeof settings.clientId === 'string' ? [settings.clientId] : settings.clientId);
  const tenantClaim = settings.tenantClaim ?? 'tenant_id';
  const jwksUri = settings.jwksUri ?? defaultJwksUri(settings.issuer);
  const verifier = JwtRsaVerifier.create(
    {
      issuer: settings.issuer,
      jwksUri,
      audience: null,
      customJwtCheck: ({ payload }) => {
        // aws-jwt-verify checks exp only when present: a token that never expires is refused here.
        if (typeof payload.exp !== 'number') throw new ClaimRefusal('the token has no expiry', 'expired');
        if (payload.token_use !== 'access') throw new ClaimRefusal('not an access token', 'token-use');
        if (typeof payload.client_id !== 'string' || !clientIds.has(payload.client_id)) throw new ClaimRefusal('the token is of another app client', 'client');
        if (!isTenantId(payload[tenantClaim])) throw new ClaimRefusal(`the token's ${tenantClaim} claim is not a tenant id`, 'tenant');
      },
    },
    new URL(jwksUri).protocol === 'http:' ? { jwksCache: httpJwksCache() } : undefined,
  );
  return async (token: string): Promise<VerifiedUser> => {
    if (typeof token !== 'string' || token === '') throw new UserTokenError('no user token', 'malformed');
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token.replace(/^Bearer\s+/i, ''))) as Record<string, unknown>;
    } catch (e) {
      const reason = refusalOf(e);
      throw new UserTokenError(`user token refused (${reason}): ${e instanceof Error ? e.message : String(e)}`, reason, { cause: e });
    }
    return { tenantId: payload[tenantClaim] as string, ...(typeof payload.sub === 'string' ? { subject: payload.sub } : {}) };
  };
}
