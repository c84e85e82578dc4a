import { randomBytes } from 'node:crypto';

/** `r-<time base36, 9 chars>-<8 hex>`: unique, and sorting by id sorts by creation time (newest-first listing is one Query). */
export function newRolloutId(now: Date = new Date()): string {
  return `r-${now.getTime().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

export const ROLLOUT_ID_PATTERN = /^r-[0-9a-z]{9}-[0-9a-f]{8}$/;
