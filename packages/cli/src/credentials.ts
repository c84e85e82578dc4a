/**
 * The credentials file: `$XDG_CONFIG_HOME/tenant-config/credentials.json` (else
 * `~/.config/tenant-config/credentials.json`), mode 0600 in a 0700 directory, one entry per
 * profile. An entry holds the access token, when it expires and how to get a new one: the
 * refresh token (Cognito user), the client id and secret (client credentials) or the dev
 * signer request (local). A token is refreshed when it has less than a minute left.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors';

export type LocalRequest =
  { readonly tenant: string; readonly admin?: boolean } | { readonly operator: string } | { readonly service: string; readonly scopes?: readonly string[] };

interface Base {
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The API's base URL to use with this profile, when login was given one. */
  readonly endpoint?: string;
  /** The fanout's host:port, when login was given one. */
  readonly grpc?: string;
}

export type Credential =
  | (Base & {
      readonly kind: 'cognito-user';
      readonly region: string;
      readonly clientId: string;
      readonly clientSecret?: string;
      readonly username: string;
      readonly refreshToken?: string;
      readonly cognitoEndpoint?: string;
    })
  | (Base & {
      readonly kind: 'client-credentials';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scopes?: readonly string[];
    })
  | (Base & { readonly kind: 'local'; readonly localDir: string; readonly request: LocalRequest });

export interface CredentialsFile {
  readonly version: 1;
  readonly profiles: Record<string, Credential>;
}

/** Refresh when less than this is left, so a token never expires mid-command. */
export const REFRESH_MARGIN_MS = 60_000;

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'tenant-config', 'credentials.json');
}

export function readCredentials(file: string): CredentialsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, profiles: {} };
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    if (parsed.version !== 1 || typeof parsed.profiles !== 'object' || parsed.profiles === null) throw new Error('unknown format');
    return parsed;
  } catch (e) {
    throw new CliError(`${file} is not a credentials file of tenant-config (${(e as Error).message}); run tenant-config logout --all to remove it`);
  }
}

/** Writes aside with mode 0600 and renames into place, so a reader never sees half a file and nobody else can read it. */
export function writeCredentials(file: string, content: CredentialsFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600); // the umask cannot widen it, but an existing temp file would keep its mode
  renameSync(temp, file);
}

export function saveProfile(file: string, profile: string, credential: Credential): void {
  const current = readCredentials(file);
  writeCredentials(file, { version: 1, profiles: { ...current.profiles, [profile]: credential } });
}

export function removeProfile(file: string, profile: string | undefined): boolean {
  const current = readCredentials(file);
  if (profile === undefined) {
    writeCredentials(file, { version: 1, profiles: {} });
    return Object.keys(current.profiles).length > 0;
  }
  if (!(profile in current.profiles)) return false;
  const { [profile]: _removed, ...rest } = current.profiles;
  writeCredentials(file, { version: 1, profiles: rest });
  return true;
}

/** What a refresh gives back: a new access token, its expiry, and a new refresh token when the issuer rotates it. */
export interface Refreshed {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly refreshToken?: string;
}

export type Refresher = (credential: Credential) => Promise<Refreshed>;

/**
 * The profile's access token, refreshed (and saved) when it expires within {@link REFRESH_MARGIN_MS}.
 * Throws CliError when there is no such profile or the refresh fails.
 */
export async function currentToken(
  file: string,
  profile: string,
  refresh: Refresher,
  now: () => number = Date.now,
): Promise<{ token: string; credential: Credential }> {
  const credential = readCredentials(file).profiles[profile];
  if (!credential) throw new CliError(`no credentials for profile '${profile}': run tenant-config login, or give --token / TENANT_CONFIG_TOKEN`);
  if (credential.expiresAt - now() > REFRESH_MARGIN_MS) return { token: credential.accessToken, credential };
  let refreshed: Refreshed;
  try {
    refreshed = await refresh(credential);
  } catch (e) {
    throw new CliError(`the token of profile '${profile}' expired and could not be refreshed (${(e as Error).message}): run tenant-config login again`);
  }
  const updated = { ...credential, accessToken: refreshed.accessToken, expiresAt: refreshed.expiresAt } as Credential;
  const next = (credential.kind === 'cognito-user' && refreshed.refreshToken ? { ...updated, refreshToken: refreshed.refreshToken } : updated) as Credential;
  saveProfile(file, profile, next);
  return { token: next.accessToken, credential: next };
}

/** The `exp` of a JWT in epoch milliseconds (not verified: only to know when to refresh); `fallback` when it has none. */
export function expiryOf(token: string, fallback: number): number {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : fallback;
  } catch {
    return fallback;
  }
}
