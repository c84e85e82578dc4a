import type { TenantId } from './tenant';

/** Who is calling, as established from a verified token at the edge. */
export interface Principal {
  readonly tenant: TenantId;
  /** The token's subject; recorded as `updatedBy`. */
  readonly subject: string;
  /** Member of the admin group: may write and delete. */
  readonly isAdmin: boolean;
}
