/**
 * The tenant registry (docs/design.md §8.2): which tenants exist and their attributes. It is
 * additive: a tenant missing from it still works as before (no attributes, so platform defaults
 * only), unless the stage requires registration.
 */
import type { Page, PageRequest } from './backend-port';
import type { TenantAttributes } from './tenant-attributes';
import type { TenantId } from './tenant';

/** Where an offboarding stands; kept on the record so an interrupted one can be resumed and reported. */
export interface OffboardingProgress {
  readonly state: 'in_progress' | 'complete';
  readonly startedAt: string;
  readonly startedBy: string;
  /** Keys deleted so far, over every backend. */
  readonly deletedKeys: number;
  readonly completedAt?: string;
}

export interface TenantRecord {
  readonly tenantId: TenantId;
  readonly attributes: TenantAttributes;
  /** +1 on every change of the record. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** Present once offboarding has started: the tenant's keys are being (or have been) deleted. */
  readonly offboarding?: OffboardingProgress;
}

export interface PutTenantCommand {
  readonly attributes: TenantAttributes;
  readonly updatedBy: string;
  /** `absent` creates only; a number compares and sets. */
  readonly expectedVersion?: number | 'absent';
  /** Replaces the offboarding progress; `null` clears it (a tenant onboarded again). */
  readonly offboarding?: OffboardingProgress | null;
}

/** The registry's port; a DynamoDB implementation lives in adapters/dynamodb. */
export interface TenantRegistry {
  get(tenant: TenantId): Promise<TenantRecord | undefined>;
  /** Throws PreconditionFailedError when `expectedVersion` does not hold. */
  put(tenant: TenantId, command: PutTenantCommand): Promise<{ record: TenantRecord; created: boolean }>;
  /** Removes the record (after offboarding). Absent → NotFoundError. */
  delete(tenant: TenantId): Promise<void>;
  /** Ordered by tenant id. */
  list(page: PageRequest): Promise<Page<TenantRecord>>;
}

/** The cache key a registry change is logged under, so watchers of the tenant learn its new attributes (not a config key: tags start with a letter). */
export const ATTRIBUTES_KEY = '@attributes';
