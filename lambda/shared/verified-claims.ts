/**
 * The claims of the token API Gateway's JWT authorizer verified, exactly as issued.
 *
 * HTTP API hands the integration its claims flattened to strings (`[a b]` for an array, `123`
 * for a number), which loses the difference between a group list and a group named `a b`, or
 * between a number and a string. The Lambda also receives the verified token itself in the
 * `authorization` header, so the payload is decoded from there (no signature check: the
 * authorizer made it, and the Lambda is reachable only through it), and cross-checked against
 * the authorizer's claims so that a request the authorizer did not see cannot pass its own token.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { UnauthenticatedError } from '../../core/errors';
import { MAX_BEARER_TOKEN_LENGTH, type TokenClaims } from '../../core/principal';

/** Claims that every Cognito token carries and that a flattened copy renders the same way. */
const CROSS_CHECKED_CLAIMS = ['iss', 'sub', 'client_id', 'exp', 'iat', 'jti', 'token_use'] as const;

type Event = Pick<APIGatewayProxyEventV2WithJWTAuthorizer, 'headers' | 'requestContext'>;

/**
 * The verified claims of the request, or undefined when no verified token reached the
 * Lambda (no authorizer on the route, or no token): the caller answers 401 then.
 */
export function verifiedClaims(event: Event): TokenClaims | undefined {
  const flattened = event.requestContext?.authorizer?.jwt?.claims as Readonly<Record<string, unknown>> | undefined;
  if (!flattened || typeof flattened !== 'object' || Object.keys(flattened).length === 0) return undefined;
  const claims = decodePayload(bearerToken(event.headers));
  for (const name of CROSS_CHECKED_CLAIMS) {
    const issued = claims[name];
    const seen = flattened[name];
    if ((issued === undefined) !== (seen === undefined) || (issued !== undefined && String(issued) !== String(seen))) {
      throw new UnauthenticatedError('the bearer token is not the one the authorizer verified');
    }
  }
  return claims;
}

/** API Gateway takes the identity source bare or after `Bearer `; a repeated header arrives comma-joined. */
function bearerToken(headers: Event['headers'] | undefined): string {
  let value: string | undefined;
  for (const [name, v] of Object.entries(headers ?? {})) if (name.toLowerCase() === 'authorization') value = v;
  const token = value?.trim().replace(/^bearer\s+/i, '');
  if (!token || token.length > MAX_BEARER_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw new UnauthenticatedError("the 'authorization' header must carry one Bearer JWT");
  }
  return token;
}

function decodePayload(token: string): TokenClaims {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    throw new UnauthenticatedError('the bearer token is malformed');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new UnauthenticatedError('the bearer token is malformed');
  }
  return payload as TokenClaims;
}
