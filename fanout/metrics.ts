/**
 * What the fanout counts: streams open, events sent, slow consumers cut off, streams refused
 * by a limit, and how far
 * behind the change log the process runs (now − change time, at the moment the one log
 * reader hands a change to the subscribers). In AWS these become CloudWatch metrics through
 * Powertools' EMF log lines; locally and in tests a plain object holds them.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export type SentEventKind = 'snapshot' | 'change' | 'heartbeat' | 'reconnect';

/** Which stream limit refused a Watch. */
export type StreamLimit = 'connection' | 'identity';

export interface FanoutMetrics {
  streamOpened(): void;
  streamClosed(): void;
  eventSent(kind: SentEventKind): void;
  slowConsumerCut(): void;
  /** A Watch refused with RESOURCE_EXHAUSTED by a stream limit. */
  streamRefused(limit: StreamLimit): void;
  /** Milliseconds from a change's time to its dispatch by the hub. */
  logLag(ms: number): void;
}

/** Counters in memory: what tests assert and what a local operator can print. */
export class InMemoryFanoutMetrics implements FanoutMetrics {
  streamsOpen = 0;
  streamsOpenedTotal = 0;
  eventsSent = 0;
  readonly eventsSentByKind: Record<SentEventKind, number> = { snapshot: 0, change: 0, heartbeat: 0, reconnect: 0 };
  slowConsumersCut = 0;
  readonly streamsRefused: Record<StreamLimit, number> = { connection: 0, identity: 0 };
  lastLogLagMs = 0;
  maxLogLagMs = 0;

  streamOpened(): void {
    this.streamsOpen += 1;
    this.streamsOpenedTotal += 1;
  }
  streamClosed(): void {
    this.streamsOpen -= 1;
  }
  eventSent(kind: SentEventKind): void {
    this.eventsSent += 1;
    this.eventsSentByKind[kind] += 1;
  }
  slowConsumerCut(): void {
    this.slowConsumersCut += 1;
  }
  streamRefused(limit: StreamLimit): void {
    this.streamsRefused[limit] += 1;
  }
  logLag(ms: number): void {
    this.lastLogLagMs = ms;
    this.maxLogLagMs = Math.max(this.maxLogLagMs, ms);
  }
}

/**
 * Aggregates in memory and publishes one EMF document per interval: per-event `addMetric`
 * calls would write a log line per change per stream, which at 10,000 streams is the bill.
 */
export class EmfFanoutMetrics implements FanoutMetrics {
  private readonly counts = new InMemoryFanoutMetrics();
  private published = { eventsSent: 0, slowConsumersCut: 0, streamsOpenedTotal: 0, streamsRefused: 0 };
  private lagSumMs = 0;
  private lagSamples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly metrics: Metrics = new Metrics({ namespace: 'TenantConfig', serviceName: 'fanout' }),
    intervalMs = 60_000,
  ) {
    this.timer = setInterval(() => this.publish(), intervalMs);
    this.timer.unref();
  }

  streamOpened(): void {
    this.counts.streamOpened();
  }
  streamClosed(): void {
    this.counts.streamClosed();
  }
  eventSent(kind: SentEventKind): void {
    this.counts.eventSent(kind);
  }
  slowConsumerCut(): void {
    this.counts.slowConsumerCut();
  }
  streamRefused(limit: StreamLimit): void {
    this.counts.streamRefused(limit);
  }
  logLag(ms: number): void {
    this.counts.logLag(ms);
    this.lagSumMs += ms;
    this.lagSamples += 1;
  }

  /** Writes the interval's figures as one EMF line (also called once on drain). */
  publish(): void {
    const c = this.counts;
    this.metrics.addMetric('StreamsOpen', MetricUnit.Count, c.streamsOpen);
    this.metrics.addMetric('StreamsOpened', MetricUnit.Count, c.streamsOpenedTotal - this.published.streamsOpenedTotal);
    this.metrics.addMetric('EventsSent', MetricUnit.Count, c.eventsSent - this.published.eventsSent);
    this.metrics.addMetric('SlowConsumersCut', MetricUnit.Count, c.slowConsumersCut - this.published.slowConsumersCut);
    const refused = c.streamsRefused.connection + c.streamsRefused.identity;
    this.metrics.addMetric('StreamsRefused', MetricUnit.Count, refused - this.published.streamsRefused);
    if (this.lagSamples > 0) {
      this.metrics.addMetric('LogLagAvg', MetricUnit.Milliseconds, this.lagSumMs / this.lagSamples);
      this.metrics.addMetric('LogLagMax', MetricUnit.Milliseconds, c.maxLogLagMs);
    }
    this.metrics.publishStoredMetrics();
    this.published = { eventsSent: c.eventsSent, slowConsumersCut: c.slowConsumersCut, streamsOpenedTotal: c.streamsOpenedTotal, streamsRefused: refused };
    this.lagSumMs = 0;
    this.lagSamples = 0;
    c.maxLogLagMs = 0;
  }

  stop(): void {
    clearInterval(this.timer);
    this.publish();
  }
}
