/**
 * The send side of one Watch stream: a bounded queue in front of `call.write()` that stops
 * writing while `write()` says the stream is full and resumes on 'drain'. The queue bound is
 * what keeps a consumer that stops reading from growing this process's memory: the hub
 * `offer`s and learns at once when the bound is crossed, and the stream is cut off instead of
 * anyone waiting for it.
 */
import type { ServerWritableStream, StatusObject } from '@grpc/grpc-js';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest__Output } from '../proto/generated/tenantconfig/v1/WatchRequest';
import type { FanoutMetrics, SentEventKind } from './metrics';

export type WatchCall = ServerWritableStream<WatchRequest__Output, WatchEvent>;

export class StreamSender {
  private queue: WatchEvent[] = [];
  private blocked = false;
  private ended = false;
  private roomWaiters: Array<() => void> = [];
  /** `Date.now()` of the last event handed to the call: the heartbeat's idle clock. */
  lastWriteAt = Date.now();

  constructor(
    private readonly call: WatchCall,
    private readonly maxQueue: number,
    private readonly metrics: FanoutMetrics,
  ) {
    call.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The client went away: nothing more is written, waiting producers are released. */
  abandon(): void {
    this.ended = true;
    this.queue = [];
    this.releaseWaiters();
  }

  /** Queues an event; `false` means the queue is over its bound and nothing was queued. */
  offer(event: WatchEvent): boolean {
    if (this.ended) return true;
    if (this.queue.length >= this.maxQueue) return false;
    this.queue.push(event);
    this.pump();
    return true;
  }

  /** For producers that can wait (snapshot, catch-up from the log): resolves once the queue has room. */
  waitForRoom(): Promise<void> {
    if (this.ended || this.queue.length < this.maxQueue) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Ends the stream. `flush` writes what is queued first (a graceful end: reconnect, drain);
   * without it the queue is dropped (a consumer being cut off will resync anyway). The events
   * already handed to the call, at most the call's own small buffer, still go before the status.
   * `lastEvent` (a `reconnect`) goes after the queue, past the bound: it is the stream's last word.
   */
  end(status: Pick<StatusObject, 'code' | 'details'> | 'ok', flush: boolean, lastEvent?: WatchEvent): void {
    if (this.ended) return;
    this.ended = true;
    if (flush) for (const event of this.queue) this.writeNow(event);
    if (lastEvent) this.writeNow(lastEvent);
    this.queue = [];
    this.releaseWaiters();
    if (status === 'ok') this.call.end();
    // grpc-js's documented way to end a server stream with a status.
    else this.call.emit('error', status);
  }

  private pump(): void {
    while (!this.blocked && !this.ended && this.queue.length > 0) {
      const event = this.queue.shift()!;
      if (!this.writeNow(event)) this.blocked = true;
    }
    if (this.queue.length < this.maxQueue) this.releaseWaiters();
  }

  private writeNow(event: WatchEvent): boolean {
    this.lastWriteAt = Date.now();
    this.metrics.eventSent(event.event as SentEventKind);
    return this.call.write(event);
  }

  private releaseWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
