/** The shapes of the HTTP API's answers (docs/design.md §4.1, §8.2, §8.3). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Item {
  readonly key: string;
  readonly value: Json;
  readonly version: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly comment?: string;
  /** `tenant`, `platform` or `segment:plan=gold`; absent on a write's answer (always the tenant's own). */
  readonly source?: string;
}

export interface HistoryEntry {
  readonly version: number;
  readonly value: Json;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly comment?: string;
  readonly deleted?: boolean;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

export interface TenantRecord {
  readonly tenantId: string;
  readonly attributes: Record<string, string>;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly offboarding?: unknown;
}

export type RolloutState = 'in_progress' | 'paused' | 'complete' | 'rolled_back';

export interface RolloutEvent {
  readonly at: string;
  readonly by: string;
  readonly action: string;
  readonly wave: number;
  readonly percent: number;
}

export interface Rollout {
  readonly id: string;
  readonly key: string;
  readonly layer: string;
  readonly value: Json;
  readonly state: RolloutState;
  readonly wave: number;
  readonly percent: number;
  readonly waves: number[];
  readonly bakeSeconds: number;
  readonly alarm?: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly events: RolloutEvent[];
}
