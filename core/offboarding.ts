/**
 * Offboarding (docs/design.md §8.2, `DELETE /v1/tenants/{tenantId}`): every key of a tenant, in
 * every tag and so in every backend, is deleted, and the cache is told of each delete, so caches
 * and watchers see them. Progress is kept on the tenant's registry record, which stays: it is how
 * `GET /v1/tenants/{tenantId}` reports an offboarding, and what lets an interrupted one resume.
 *
 * - Bounded: it stops at a deadline and returns `in_progress` (the HTTP edge answers 202 and the
 *   caller repeats the DELETE); a later call lists again and deletes what is left.
 * - Idempotent: a call on a complete offboarding checks that nothing is left (a key written since
 *   is deleted too) and, when nothing was, returns the record's progress unchanged.
 * - Finished means one whole pass over every tag found nothing, so a key written by a concurrent
 *   writer during the walk is caught by the next pass, not left behind.
 *
 * DynamoDB deletes leave versioned tombstones (decision 6), so a tenant that comes back never sees
 * a version go backwards; they are not keys (get and list do not return them).
 */
import { authorize, type TenantAccess } from './access-policy';
import type { ConfigBackend } from './backend-port';
import type { ItemReader } from './config-service';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, PreconditionFailedError } from './errors';
import { parseKey, parseKeyPrefix } from './key';
import { isLayerOwner } from './layers';
import type { RegisteredTag } from './tag-registry';
import type { TagRouter } from './tag-router';
import type { OffboardingProgress, TenantRegistry } from './tenant-registry';

export const DEFAULT_OFFBOARDING_DEADLINE_MS = 20_000;
export const DEFAULT_PROGRESS_EVERY = 100;
/** Keys listed per backend call: the backends' page maximum. */
const LIST_PAGE = 100;
/** Attempts at writing progress when another request changes the record at the same time. */
const RECORD_ATTEMPTS = 5;

export interface OffboardingDependencies {
  readonly router: TagRouter;
  readonly registry: TenantRegistry;
  /** The cache in front of the backends; told of every delete (`onWrite`). */
  readonly reader?: ItemReader;
  /** Time of `startedAt` and `completedAt`. @default () => new Date() */
  readonly clock?: () => Date;
}

export interface OffboardingOptions {
  /** Stop after this long and return `in_progress`. @default 20000 */
  readonly deadlineMs?: number;
  /** Write `deletedKeys` to the record after this many deletes. @default 100 */
  readonly progressEvery?: number;
}

/**
 * Deletes every key of `access.tenant` and records the progress on its registry record (created,
 * with no attributes, for a tenant that was never registered). Only a platform operator may do it.
 * Returns the progress as recorded: `complete`, or `in_progress` when the deadline passed first.
 */
export async function offboardTenant(deps: OffboardingDependencies, access: TenantAccess, options: OffboardingOptions = {}): Promise<OffboardingProgress> {
  const { caller, tenant } = access;
  if (caller.kind !== 'operator') throw new ForbiddenError('offboarding a tenant requires membership of the platform operator group');
  // Layers are stored under owner ids in place of tenant ids: offboarding one would delete every tenant's defaults.
  if (isLayerOwner(tenant)) throw new InvalidRequestError(`'${tenant}' is a layer of defaults, not a tenant`);
  const deadlineMs = options.deadlineMs ?? DEFAULT_OFFBOARDING_DEADLINE_MS;
  const progressEvery = options.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  if (!Number.isInteger(progressEvery) || progressEvery < 1) throw new InvalidRequestError('progressEvery must be a positive integer');
  const clock = deps.clock ?? (() => new Date());
  const stopAt = performance.now() + deadlineMs;
  const pastDeadline = () => performance.now() >= stopAt;

  // Every tag is checked before anything is deleted: a refusal never leaves a half-offboarded tenant.
  const tags = deps.router.registry.all();
  for (const tag of tags) authorize(access, tag, 'write');

  /** Writes progress with compare-and-set, reading the record again if another request changed it. */
  const record = async (next: (current: OffboardingProgress | undefined) => OffboardingProgress): Promise<OffboardingProgress> => {
    for (let attempt = 1; ; attempt++) {
      const current = await deps.registry.get(tenant);
      const progress = next(current?.offboarding);
      try {
        await deps.registry.put(tenant, {
          attributes: current?.attributes ?? {},
          updatedBy: caller.subject,
          expectedVersion: current ? current.version : 'absent',
          offboarding: progress,
        });
        return progress;
      } catch (e) {
        if (!(e instanceof PreconditionFailedError) || attempt >= RECORD_ATTEMPTS) {
          throw e instanceof PreconditionFailedError ? new ConflictError(`tenant '${tenant}' keeps changing while its offboarding is recorded; retry`) : e;
        }
      }
    }
  };

  const existing = (await deps.registry.get(tenant))?.offboarding;
  let progress: OffboardingProgress =
    existing ?? (await record((current) => current ?? { state: 'in_progress', startedAt: clock().toISOString(), startedBy: caller.subject, deletedKeys: 0 }));

  /** Deletes made by this call and not yet added to the record's `deletedKeys`. */
  let unrecorded = 0;
  const addUnrecorded = (state: OffboardingProgress['state']) => (current: OffboardingProgress | undefined) => {
    const base = current ?? progress;
    const next: OffboardingProgress = { state, startedAt: base.startedAt, startedBy: base.startedBy, deletedKeys: base.deletedKeys + unrecorded };
    return state === 'complete' ? { ...next, completedAt: clock().toISOString() } : next;
  };
  const flush = async (state: OffboardingProgress['state']) => {
    progress = await record(addUnrecorded(state));
    unrecorded = 0;
    return progress;
  };

  for (;;) {
    const pass = await deletePass(deps, access, tags, pastDeadline, async () => {
      unrecorded += 1;
      if (unrecorded >= progressEvery) await flush('in_progress');
    });
    if (pass === 'interrupted') {
      // A complete offboarding whose check found nothing yet stays as it is.
      if (unrecorded === 0 && progress.state === 'complete') return progress;
      return flush('in_progress');
    }
    if (pass.found === 0) break;
  }
  if (progress.state === 'complete' && unrecorded === 0) return progress;
  return flush('complete');
}

/**
 * One walk over every tag: lists the tenant's keys page by page and deletes each one. Returns
 * how many keys it found (0 proves the tenant empty), or `interrupted` at the deadline.
 */
async function deletePass(
  deps: OffboardingDependencies,
  access: TenantAccess,
  tags: readonly RegisteredTag[],
  pastDeadline: () => boolean,
  deleted: () => Promise<void>,
): Promise<{ found: number } | 'interrupted'> {
  let found = 0;
  for (const tag of tags) {
    const prefix = parseKeyPrefix(`${tag.name}:`);
    const { backend } = deps.router.route(prefix);
    let cursor: string | undefined;
    do {
      if (pastDeadline()) return 'interrupted';
      // The keys already deleted are before the cursor: deleting them does not move the pages after it.
      const page = await backend.list(access.tenant, prefix, { limit: LIST_PAGE, cursor });
      for (const item of page.items) {
        if (pastDeadline()) return 'interrupted';
        found += 1;
        if (await deleteKey(deps, access, backend, item.key)) await deleted();
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  return { found };
}

/** True when this call deleted the key; false when a concurrent delete got there first. */
async function deleteKey(deps: OffboardingDependencies, access: TenantAccess, backend: ConfigBackend, raw: string): Promise<boolean> {
  const key = parseKey(raw);
  let version: number;
  try {
    ({ version } = await backend.delete(access.tenant, { key, deletedBy: access.caller.subject }));
  } catch (e) {
    if (e instanceof NotFoundError) return false; // deleted by another request (whose delete told the cache)
    throw e;
  }
  await deps.reader?.onWrite?.(access, key.raw, { deletedVersion: version });
  return true;
}
