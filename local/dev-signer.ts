/**
 * The local stand-in for the Cognito user pool: one RS256 key pair, made once and
 * kept under `<localDir>/signer/` so tokens stay valid across restarts, its JWKS,
 * and access tokens shaped like Cognito's (with the tenant claim a pre-token-generation
 * V2 trigger puts there on AWS). Development only: the private key sits on disk in the clear.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ADMIN_GROUP, DEFAULT_OPERATOR_GROUP, DEFAULT_TENANT_CLAIM, SCOPES } from '../core/principal';
import { parseTenantId } from '../core/tenant';

/**
 * The issuer of local tokens. `.invalid` is a reserved top-level domain (RFC 2606), so the
 * URL can never resolve to someone else's keys; the verifier is handed the JWKS directly.
 */
export const LOCAL_ISSUER = 'https://cognito-idp.local.invalid/local_devpool';
/** The local app client id: what `client_id` carries and what the local authorizer accepts as audience. */
export const LOCAL_CLIENT_ID = 'local-dev-client';
/** Defaults the handler also uses: the claim holding the tenant, and the group allowed to write. */
export const TENANT_CLAIM = DEFAULT_TENANT_CLAIM;
export const ADMIN_GROUP = DEFAULT_ADMIN_GROUP;
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/** Cognito's own bounds for access token validity: 5 minutes to 1 day. Locally we allow 1 s for tests. */
export const MAX_TOKEN_TTL_SECONDS = 86400;

export interface RsaPublicJwk {
  readonly kty: 'RSA';
  readonly kid: string;
  readonly alg: 'RS256';
  readonly use: 'sig';
  readonly n: string;
  readonly e: string;
}

export interface Jwks {
  readonly keys: readonly RsaPublicJwk[];
}

export interface DevTokenRequest {
  readonly tenant: string;
  readonly admin?: boolean;
  /** The user's `sub` (and `username`). @default `dev-<tenant>-admin` or `dev-<tenant>-reader` */
  readonly subject?: string;
  /** @default 3600 */
  readonly ttlSeconds?: number;
}

/** A consuming service's client-credentials token: no user, no tenant, OAuth scopes. */
export interface DevServiceTokenRequest {
  /** The app client id (`client_id` and `sub`), e.g. `billing`. */
  readonly service: string;
  /** @default ['tenant-config/read'] */
  readonly scopes?: readonly string[];
  /** @default 3600 */
  readonly ttlSeconds?: number;
}

/** A platform operator: a user in the operator group, with no tenant claim. */
export interface DevOperatorTokenRequest {
  /** The operator's `sub` and `username`, e.g. `alice`. */
  readonly operator: string;
  /** @default 3600 */
  readonly ttlSeconds?: number;
}

export type JwtClaims = Record<string, unknown>;

export interface DevSigner {
  readonly kid: string;
  readonly jwks: Jwks;
  /** A Cognito-shaped access token for a demo user of `tenant`; throws on a malformed tenant or ttl. */
  signToken(request: DevTokenRequest): string;
  /** A Cognito-shaped client-credentials access token; throws on a malformed name, scope or ttl. */
  signServiceToken(request: DevServiceTokenRequest): string;
  /** A Cognito-shaped access token of an operator; throws on a malformed name or ttl. */
  signOperatorToken(request: DevOperatorTokenRequest): string;
  /**
   * Signs any claims with the dev key, with no checks: for tests that need tokens the
   * authorizer or handler must refuse (expired, wrong issuer, tenant `a/b`, ...).
   */
  signClaims(claims: JwtClaims, header?: Record<string, unknown>): string;
}

interface StoredKey {
  readonly kid: string;
  readonly privateKeyPem: string;
}

const KEY_FILE = 'signing-key.json';

/** Opens the signer kept in `<localDir>/signer/`, creating its key pair on first use. */
export function openDevSigner(localDir: string): DevSigner {
  const dir = join(localDir, 'signer');
  const stored = loadOrCreateKey(dir);
  const privateKey = createPrivateKey(stored.privateKeyPem);
  const jwk = publicJwk(createPublicKey(privateKey), stored.kid);
  const jwks: Jwks = { keys: [jwk] };
  // The JWKS beside the key lets other local processes (and curious humans) read it without the private key.
  const jwksFile = join(dir, 'jwks.json');
  const jwksText = `${JSON.stringify(jwks, null, 2)}\n`;
  if (!existsSync(jwksFile) || readFileSync(jwksFile, 'utf8') !== jwksText) writeFileSync(jwksFile, jwksText);

  const signClaims = (claims: JwtClaims, header: Record<string, unknown> = {}): string =>
    encodeJwt({ kid: stored.kid, alg: 'RS256', ...header }, claims, privateKey);

  return {
    kid: stored.kid,
    jwks,
    signClaims,
    signToken(request: DevTokenRequest): string {
      const tenant = parseTenantId(request.tenant);
      const subject = request.subject ?? `dev-${tenant}-${request.admin ? 'admin' : 'reader'}`;
      return signClaims({
        ...userClaims(subject, ttlOf(request.ttlSeconds)),
        ...(request.admin ? { 'cognito:groups': [ADMIN_GROUP] } : {}),
        [TENANT_CLAIM]: tenant,
      });
    },
    signOperatorToken(request: DevOperatorTokenRequest): string {
      return signClaims({ ...userClaims(request.operator, ttlOf(request.ttlSeconds)), 'cognito:groups': [DEFAULT_OPERATOR_GROUP] });
    },
    signServiceToken(request: DevServiceTokenRequest): string {
      const clientId = request.service;
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(clientId)) throw new RangeError('service must be 1-128 characters of [A-Za-z0-9_-]');
      const scopes = request.scopes ?? [SCOPES.read];
      if (scopes.length === 0 || scopes.some((s) => !/^[\x21-\x7e]{1,256}$/.test(s))) throw new RangeError('scopes must be non-empty words without spaces');
      const now = Math.floor(Date.now() / 1000);
      // What Cognito's token endpoint issues for grant_type=client_credentials: sub is the client id, no username.
      return signClaims({
        sub: clientId,
        token_use: 'access',
        scope: scopes.join(' '),
        auth_time: now,
        iss: LOCAL_ISSUER,
        exp: now + ttlOf(request.ttlSeconds),
        iat: now,
        version: 2,
        jti: randomUUID(),
        client_id: clientId,
      });
    },
  };
}

function ttlOf(ttlSeconds: number | undefined): number {
  const ttl = ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(`ttl must be an integer number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  return ttl;
}

/** The claims of a user's access token from the local app client (groups and tenant added by the caller). */
function userClaims(subject: string, ttl: number): JwtClaims {
  if (subject.length === 0 || subject.length > 128) throw new RangeError('subject must be 1-128 characters');
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: subject,
    iss: LOCAL_ISSUER,
    version: 2,
    client_id: LOCAL_CLIENT_ID,
    origin_jti: randomUUID(),
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: now,
    exp: now + ttl,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    username: subject,
  };
}

function loadOrCreateKey(dir: string): StoredKey {
  const file = join(dir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const stored: StoredKey = {
      kid: jwkThumbprint(publicKey),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    // Write aside, then link into place: link fails if another process (npm start and the
    // token CLI started together) got there first, and then both use that one key.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(stored), { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(temp);
    }
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredKey>;
  if (typeof parsed.kid !== 'string' || typeof parsed.privateKeyPem !== 'string') {
    throw new Error(`${file} is not a signing key written by the dev signer; delete it to make a new one`);
  }
  return { kid: parsed.kid, privateKeyPem: parsed.privateKeyPem };
}

function publicJwk(publicKey: KeyObject, kid: string): RsaPublicJwk {
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: n!, e: e! };
}

/** RFC 7638 thumbprint: a kid that names the key itself. */
function jwkThumbprint(publicKey: KeyObject): string {
  const { n, e } = publicKey.export({ format: 'jwk' });
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
}

function encodeJwt(header: Record<string, unknown>, claims: JwtClaims, privateKey: KeyObject): string {
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

const b64url = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url');
