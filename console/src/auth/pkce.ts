/**
 * The OAuth 2.0 authorization code flow with PKCE (RFC 7636) against the Cognito hosted UI, done
 * by the page itself: a public client has no secret, so the verifier (kept in sessionStorage for
 * the round trip) proves that the code is redeemed by the page that asked for it.
 */
import type { AuthConfig } from '../config';

type CognitoAuth = Extract<AuthConfig, { kind: 'cognito' }>;

const VERIFIER = 'tenant-config.pkce.verifier';
const STATE = 'tenant-config.pkce.state';

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = (): string => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** The console's own URL without query or fragment: the registered callback and logout URL. */
export const redirectUri = (): string => new URL('./', document.baseURI).href;

export async function startLogin(auth: CognitoAuth): Promise<never> {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const url = new URL('/oauth2/authorize', auth.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: auth.scopes.join(' '),
    state,
    code_challenge_method: 'S256',
    code_challenge: challenge,
  }).toString();
  location.assign(url.href);
  return new Promise<never>(() => undefined);
}

/** On the way back from the hosted UI: the access token for `?code=`, or undefined when there is no code. */
export async function completeLogin(auth: CognitoAuth): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return undefined;
  const verifier = sessionStorage.getItem(VERIFIER);
  const expected = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  history.replaceState(null, '', redirectUri() + location.hash);
  if (!verifier || !expected || params.get('state') !== expected) throw new Error('sign-in answer does not match the request made (state); sign in again');
  const res = await fetch(new URL('/oauth2/token', auth.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: auth.clientId, code, redirect_uri: redirectUri(), code_verifier: verifier }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`sign-in failed: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
  return body.access_token;
}

export function logoutUrl(auth: CognitoAuth): string {
  const url = new URL('/logout', auth.domain);
  url.search = new URLSearchParams({ client_id: auth.clientId, logout_uri: redirectUri() }).toString();
  return url.href;
}
