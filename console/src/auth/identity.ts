/**
 * Who the page is signed in as, read from the access token's claims — only to choose what to
 * offer. The API verifies the token and decides every request; a forged claim here shows
 * buttons whose requests then fail with 403.
 */
export type Role = 'reader' | 'admin' | 'operator' | 'service';

export interface Identity {
  readonly token: string;
  readonly role: Role;
  /** The token's tenant (tenant readers and admins). */
  readonly tenant?: string;
  /** `username`, else `sub`. */
  readonly name: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** The groups and claim of docs/design.md §8.1 (core/principal.ts on the server). */
const ADMIN_GROUP = 'config-admins';
const OPERATOR_GROUP = 'platform-operators';
const TENANT_CLAIM = 'tenant_id';

export function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  const base64 = payload
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(payload.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function identityOf(token: string): Identity {
  const claims = decodeClaims(token);
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]) : [];
  const tenant = typeof claims[TENANT_CLAIM] === 'string' ? (claims[TENANT_CLAIM] as string) : undefined;
  const name = String(claims.username ?? claims.sub ?? 'unknown');
  const role: Role = groups.includes(OPERATOR_GROUP) ? 'operator' : tenant ? (groups.includes(ADMIN_GROUP) ? 'admin' : 'reader') : 'service';
  return { token, role, tenant: role === 'operator' ? undefined : tenant, name, expiresAt: Number(claims.exp ?? 0) };
}

export const ROLE_LABELS: Record<Role, string> = {
  reader: 'tenant reader',
  admin: 'tenant admin',
  operator: 'platform operator',
  service: 'service',
};
