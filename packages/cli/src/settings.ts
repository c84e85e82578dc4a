/**
 * Where the API is and which token to send. Endpoint: `--endpoint`, `TENANT_CONFIG_ENDPOINT`,
 * the profile's (from login), then `.local/endpoints.json` found by walking up from the working
 * directory (`npm start` writes it). Token: `--token`, `TENANT_CONFIG_TOKEN`, then the profile in
 * the credentials file (refreshed when it expires).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { credentialsPath, currentToken, readCredentials, type Credential } from './credentials';
import { CliError, EXIT } from './errors';
import { refreshCredential } from './login';

export interface GlobalOptions {
  readonly endpoint?: string;
  readonly grpc?: string;
  readonly token?: string;
  readonly profile?: string;
  readonly output?: 'text' | 'json';
}

export interface LocalEndpointsFile {
  readonly file: string;
  /** The directory holding endpoints.json (the local system's data dir, with the dev signer). */
  readonly dir: string;
  readonly http?: string;
  readonly grpc?: string;
}

/** `.local/endpoints.json` in `from` or the nearest ancestor that has one (`$LOCAL_DIR/endpoints.json` first when set). */
export function findLocalEndpoints(from: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): LocalEndpointsFile | undefined {
  const candidates: string[] = [];
  if (env.LOCAL_DIR) candidates.push(join(resolve(env.LOCAL_DIR), 'endpoints.json'));
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    candidates.push(join(dir, '.local', 'endpoints.json'));
    if (dirname(dir) === dir) break;
  }
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { http?: unknown; grpc?: unknown };
      return {
        file,
        dir: dirname(file),
        http: typeof parsed.http === 'string' ? parsed.http : undefined,
        grpc: typeof parsed.grpc === 'string' ? parsed.grpc : undefined,
      };
    } catch {
      continue; // being rewritten by npm start; an older ancestor may still answer
    }
  }
  return undefined;
}

/** The directory a local login's signer lives in: `--local-dir`, `$LOCAL_DIR`, or where endpoints.json was found. */
export function localDirFor(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env.LOCAL_DIR) return resolve(env.LOCAL_DIR);
  const found = findLocalEndpoints(process.cwd(), env);
  if (found) return found.dir;
  const here = resolve('.local');
  if (existsSync(join(here, 'signer'))) return here;
  throw new CliError('no local system found: run npm start in the checkout (it writes .local/endpoints.json), or give --local-dir', EXIT.usage);
}

export const profileOf = (options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string => options.profile ?? env.TENANT_CONFIG_PROFILE ?? 'default';

function storedProfile(options: GlobalOptions, env: NodeJS.ProcessEnv): Credential | undefined {
  try {
    return readCredentials(credentialsPath(env)).profiles[profileOf(options, env)];
  } catch {
    return undefined;
  }
}

export function resolveEndpoint(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = options.endpoint ?? env.TENANT_CONFIG_ENDPOINT ?? storedProfile(options, env)?.endpoint ?? findLocalEndpoints(process.cwd(), env)?.http;
  if (!endpoint) {
    throw new CliError('no endpoint: give --endpoint URL or TENANT_CONFIG_ENDPOINT (or run npm start in a checkout: .local/endpoints.json)', EXIT.usage);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new CliError(`the endpoint is not a URL: '${endpoint}'`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`the endpoint must be http(s): '${endpoint}'`, EXIT.usage);
  return endpoint.replace(/\/+$/, '');
}

export function resolveGrpc(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  const target = options.grpc ?? env.TENANT_CONFIG_GRPC_ENDPOINT ?? storedProfile(options, env)?.grpc ?? findLocalEndpoints(process.cwd(), env)?.grpc;
  if (!target) throw new CliError('no gRPC endpoint: give --grpc host:port or TENANT_CONFIG_GRPC_ENDPOINT (or run npm start in a checkout)', EXIT.usage);
  return target;
}

/** A function giving the current token; the credentials file is read (and refreshed) once per process at first use. */
export function tokenProvider(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): () => Promise<string> {
  const explicit = options.token ?? env.TENANT_CONFIG_TOKEN;
  if (explicit !== undefined && explicit !== '') return async () => explicit.trim();
  let cached: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (cached && cached.expiresAt - Date.now() > 60_000) return cached.token;
    const { token, credential } = await currentToken(credentialsPath(env), profileOf(options, env), refreshCredential);
    cached = { token, expiresAt: credential.expiresAt };
    return token;
  };
}
