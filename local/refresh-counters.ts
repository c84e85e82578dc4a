/**
 * The cache refresh's metrics, counted in memory: locally there is no CloudWatch to take
 * Powertools' EMF lines, and tests read the counts to see that an event was applied.
 */
import type { RefreshMetrics } from '../lambda/cache-refresh/refresh';

export class CountingRefreshMetrics implements RefreshMetrics {
  private readonly totals = new Map<string, number>();
  private readonly samples = new Map<string, number>();

  addMetric(name: string, _unit: 'Count' | 'Milliseconds', value: number): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    this.samples.set(name, (this.samples.get(name) ?? 0) + 1);
  }

  /** Sum of the values recorded under `name` (for counts: the count). */
  total(name: string): number {
    return this.totals.get(name) ?? 0;
  }

  /** How many values were recorded under `name`. */
  count(name: string): number {
    return this.samples.get(name) ?? 0;
  }
}
