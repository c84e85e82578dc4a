/**
 * The send side of one Watch stream: a bounded queue in front of `call.write()` that stops
 * writing while `write()` says the stream is full and resumes on 'drain'. The queue bound is
 * what keeps a consumer that stops reading from growing this process's memory: the hub
 * `offer`s and learns at once when the bound is crossed, and the stream is cut off instead of
 * anyone waiting for it.
 *
 * What has been handed to the call but not yet sent (flow control: the client is not reading)
 * is counted, writes in flight and their approximate bytes: snapshot pages wait for it to be
 * zero, so a stream that is not read holds at most one page in the transport.
 */
import type { StatusObject } from '@grpc/grpc-js';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';
import { resetUnlessClosed } from './http2-call';
import type { FanoutMetrics, SentEventKind } from './metrics';
import { approximateBytes } from './watch-events';

/**
 * What a Watch stream writes to: the part of a grpc-js server call (`ServerWritableStream`) that
 * streams use, so the events endpoint's SSE response (fanout/events/sse-watch-call.ts) can stand
 * in for it and get the same delivery, backpressure and drain.
 */
export interface WatchCall {
  /** `false` when the transport is full: nothing more until 'drain'. `sent` runs once the bytes left for the socket. */
  write(event: WatchEvent, sent: () => void): boolean;
  /** Ends the stream with OK. */
  end(): void;
  /** Ends the stream with a non-OK status (grpc-js's documented way). */
  emit(event: 'error', status: Pick<StatusObject, 'code' | 'details'>): boolean;
  /** 'drain': room again after `write` returned false; 'cancelled': the client went away. */
  on(event: 'drain' | 'cancelled', listener: () => void): unknown;
}

export class StreamSender {
  private queue: WatchEvent[] = [];
  /** How far the bound is raised for events of an expansion still to leave the queue ({@link offerExpansion}). */
  private allowance = 0;
  private blocked = false;
  private ended = false;
  private roomWaiters: Array<() => void> = [];
  private flushWaiters: Array<() => void> = [];
  private inFlight = 0;
  private inFlightBytesNow = 0;
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

  /** Writes handed to the call whose bytes have not left for the socket yet. */
  get inFlightWrites(): number {
    return this.inFlight;
  }

  /** Approximate bytes of those writes. */
  get inFlightBytes(): number {
    return this.inFlightBytesNow;
  }

  /** True while a producer waits for the stream to flush (a snapshot page not yet taken by the client). */
  get waitingForFlush(): boolean {
    return this.flushWaiters.length > 0;
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
    if (this.queue.length >= this.maxQueue + this.allowance) return false;
    this.queue.push(event);
    this.pump();
    return true;
  }

  /**
   * Queues the events one log entry expands into on a stream of many tenants (a default change:
   * one change per tenant it reaches) past the bound: they are bounded by the stream's tenants,
   * not by how slowly the consumer reads, and they must not cut off a consumer that keeps up. Until
   * as many events have left the queue, the bound is raised by their number. `false` as `offer`.
   */
  offerExpansion(events: readonly WatchEvent[]): boolean {
    if (this.ended) return true;
    if (this.queue.length >= this.maxQueue + this.allowance) return false;
    this.allowance += events.length;
    this.queue.push(...events);
    this.pump();
    return true;
  }

  /** For producers that can wait (snapshot, catch-up from the log): resolves once the queue has room. */
  waitForRoom(): Promise<void> {
    if (this.ended || this.queue.length < this.maxQueue) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves once nothing is queued or in flight (or the stream ended): the next snapshot page may be read. */
  waitForFlush(): Promise<void> {
    if (this.isFlushed()) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /**
   * Ends a stream whose consumer is too slow: the status goes out after what the transport
   * already holds, and if that is not taken within `graceMs` (the client stopped reading) the
   * stream is reset, which reaches the client as RESOURCE_EXHAUSTED and frees the buffers.
   */
  cutOff(status: Pick<StatusObject, 'code' | 'details'>, graceMs: number): void {
    if (this.ended) return;
    const stuck = this.inFlight > 0;
    this.end(status, false);
    if (stuck) resetUnlessClosed(this.call, graceMs);
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
      if (this.allowance > 0) this.allowance -= 1;
      if (!this.writeNow(event)) this.blocked = true;
    }
    if (this.queue.length < this.maxQueue) this.releaseRoomWaiters();
  }

  private writeNow(event: WatchEvent): boolean {
    this.lastWriteAt = Date.now();
    this.metrics.eventSent(event.event as SentEventKind);
    const bytes = approximateBytes(event);
    this.inFlight += 1;
    this.inFlightBytesNow += bytes;
    // The callback runs once HTTP/2 has sent the bytes (after the client's flow-control window allowed it).
    return this.call.write(event, () => {
      this.inFlight -= 1;
      this.inFlightBytesNow -= bytes;
      if (this.isFlushed()) this.releaseFlushWaiters();
    });
  }

  private isFlushed(): boolean {
    return this.ended || (this.queue.length === 0 && this.inFlight === 0);
  }

  private releaseWaiters(): void {
    this.releaseRoomWaiters();
    this.releaseFlushWaiters();
  }

  private releaseRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private releaseFlushWaiters(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
