import type { ConfigKey } from '../../core/key';
import type { TenantId } from '../../core/tenant';

/** A lease while it is held. */
export interface HeldLease {
  /** Milliseconds until another writer may take the lease over; write only while plenty is left. */
  remainingMs(): number;
  /** Extends the lease to its full length again; ConflictError when it has been lost meanwhile. */
  renew(): Promise<void>;
}

/**
 * A short, exclusive, self-expiring right to write one key. Parameter Store has no
 * conditional write, so API writers of a key take turns through this lease and
 * check the version themselves (see ssm-config-backend.ts for what it does and does
 * not guarantee).
 */
export interface WriteLease {
  /**
   * Runs `work` while holding the lease on (tenant, key) and releases it afterwards,
   * whatever `work` does. When another writer holds the lease past a short bounded
   * wait, throws ConflictError (safe to retry).
   */
  run<T>(tenant: TenantId, key: ConfigKey, work: (held: HeldLease) => Promise<T>): Promise<T>;
}
