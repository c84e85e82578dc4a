/**
 * Getting an access token: a Cognito user's password (USER_PASSWORD_AUTH, with the MFA
 * challenge answered when the pool asks), a service's client credentials (the pool's OAuth
 * token endpoint), or the local dev signer of a checkout. Each also knows how to refresh.
 */
import { createHmac } from 'node:crypto';
import type { AuthenticationResultType, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { openDevSigner } from '../../../local/dev-signer';
import type { Credential, LocalRequest, Refreshed } from './credentials';
import { expiryOf } from './credentials';
import { CliError } from './errors';

export interface CognitoUserLogin {
  readonly region: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly username: string;
  readonly password: string;
  /** Asked for when the pool answers with an MFA challenge. */
  readonly mfaCode: (challenge: 'SOFTWARE_TOKEN_MFA' | 'SMS_MFA') => Promise<string>;
  /** Another Cognito endpoint (moto in tests). */
  readonly cognitoEndpoint?: string;
}

/** The SDK is loaded only by the commands that talk to Cognito, so the others start faster. */
const cognitoSdk = () => import('@aws-sdk/client-cognito-identity-provider');

async function cognito(region: string, endpoint: string | undefined): Promise<CognitoIdentityProviderClient> {
  const { CognitoIdentityProviderClient } = await cognitoSdk();
  // InitiateAuth and RespondToAuthChallenge are unauthenticated calls: no AWS credentials are used.
  return new CognitoIdentityProviderClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
  });
}

const secretHash = (username: string, clientId: string, clientSecret: string): string =>
  createHmac('sha256', clientSecret)
    .update(username + clientId)
    .digest('base64');

function tokensOf(result: AuthenticationResultType | undefined): Refreshed {
  if (!result?.AccessToken) throw new CliError('Cognito returned no access token');
  const fallback = Date.now() + (result.ExpiresIn ?? 3600) * 1000;
  return { accessToken: result.AccessToken, expiresAt: expiryOf(result.AccessToken, fallback), refreshToken: result.RefreshToken };
}

function cognitoFailure(e: unknown): CliError {
  if (e instanceof CliError) return e;
  const err = e as { name?: string; message?: string };
  return new CliError(`Cognito refused the login: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`);
}

export async function loginCognitoUser(input: CognitoUserLogin): Promise<Refreshed> {
  const { InitiateAuthCommand, RespondToAuthChallengeCommand } = await cognitoSdk();
  const client = await cognito(input.region, input.cognitoEndpoint);
  try {
    const hash: Record<string, string> = input.clientSecret ? { SECRET_HASH: secretHash(input.username, input.clientId, input.clientSecret) } : {};
    let out = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: input.clientId,
        AuthParameters: { USERNAME: input.username, PASSWORD: input.password, ...hash },
      }),
    );
    for (let round = 0; out.ChallengeName && round < 3; round++) {
      const challenge = out.ChallengeName;
      if (challenge !== 'SOFTWARE_TOKEN_MFA' && challenge !== 'SMS_MFA') {
        throw new CliError(
          `Cognito asks for ${challenge}, which this CLI does not answer: complete it in the hosted UI or with the AWS CLI, then log in again`,
        );
      }
      const code = await input.mfaCode(challenge);
      const field = challenge === 'SOFTWARE_TOKEN_MFA' ? 'SOFTWARE_TOKEN_MFA_CODE' : 'SMS_MFA_CODE';
      out = await client.send(
        new RespondToAuthChallengeCommand({
          ClientId: input.clientId,
          ChallengeName: challenge,
          Session: out.Session,
          ChallengeResponses: { USERNAME: input.username, [field]: code, ...hash },
        }),
      );
    }
    return tokensOf(out.AuthenticationResult);
  } catch (e) {
    throw cognitoFailure(e);
  } finally {
    client.destroy();
  }
}

async function refreshCognitoUser(c: Extract<Credential, { kind: 'cognito-user' }>): Promise<Refreshed> {
  if (!c.refreshToken) throw new CliError('no refresh token was stored');
  const { InitiateAuthCommand } = await cognitoSdk();
  const client = await cognito(c.region, c.cognitoEndpoint);
  try {
    const hash: Record<string, string> = c.clientSecret ? { SECRET_HASH: secretHash(c.username, c.clientId, c.clientSecret) } : {};
    const out = await client.send(
      new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: c.clientId, AuthParameters: { REFRESH_TOKEN: c.refreshToken, ...hash } }),
    );
    const tokens = tokensOf(out.AuthenticationResult);
    // Cognito does not send a new refresh token unless rotation is on: keep the old one.
    return { ...tokens, refreshToken: tokens.refreshToken ?? c.refreshToken };
  } catch (e) {
    throw cognitoFailure(e);
  } finally {
    client.destroy();
  }
}

export interface ClientCredentialsLogin {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes?: readonly string[];
}

/** OAuth 2.0 client credentials grant against the pool's token endpoint (`https://<domain>/oauth2/token`). */
export async function loginClientCredentials(input: ClientCredentialsLogin): Promise<Refreshed> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (input.scopes && input.scopes.length > 0) form.set('scope', input.scopes.join(' '));
  let res: Response;
  try {
    res = await fetch(input.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(input.clientId)}:${encodeURIComponent(input.clientSecret)}`).toString('base64')}`,
      },
      body: form.toString(),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new CliError(`cannot reach the token endpoint ${input.tokenUrl}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
  }
  const text = await res.text();
  let body: { access_token?: string; expires_in?: number; error?: string; error_description?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // reported below
  }
  if (!res.ok || typeof body.access_token !== 'string') {
    throw new CliError(
      `the token endpoint refused the client credentials (${res.status}): ${body.error ?? 'no access token'}${body.error_description ? `: ${body.error_description}` : ''}`,
    );
  }
  const fallback = Date.now() + (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
  return { accessToken: body.access_token, expiresAt: expiryOf(body.access_token, fallback) };
}

/** A token from the checkout's dev signer (`<localDir>/signer`), as `npm run token` makes them. */
export async function loginLocal(localDir: string, request: LocalRequest, ttlSeconds?: number): Promise<Refreshed> {
  const signer = openDevSigner(localDir);
  let token: string;
  try {
    if ('operator' in request) token = signer.signOperatorToken({ operator: request.operator, ttlSeconds });
    else if ('service' in request) token = signer.signServiceToken({ service: request.service, scopes: request.scopes, ttlSeconds });
    else token = signer.signToken({ tenant: request.tenant, admin: request.admin ?? false, ttlSeconds });
  } catch (e) {
    throw new CliError(`cannot make a local token: ${(e as Error).message}`, 2);
  }
  return { accessToken: token, expiresAt: expiryOf(token, Date.now() + 3600_000) };
}

/** How each kind of credential gets a new access token. */
export async function refreshCredential(c: Credential): Promise<Refreshed> {
  switch (c.kind) {
    case 'cognito-user':
      return refreshCognitoUser(c);
    case 'client-credentials':
      return loginClientCredentials(c);
    case 'local':
      return loginLocal(c.localDir, c.request);
  }
}
