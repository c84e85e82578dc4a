/**
 * One HTTP request of the events endpoint as a Watch call: the Watch service authenticates,
 * resolves tenants and prefixes and checks the cursor exactly as for gRPC, and the stream
 * writes through this adapter, which turns each event into an SSE frame on the response.
 * `write()` returns what `res.write()` returns and 'drain' is the response's, so the Watch's
 * backpressure and slow-consumer cut-off hold as they do over HTTP/2.
 *
 * Until the Watch is accepted nothing is sent, so a refusal is a plain problem+json response
 * with its 4xx; after that a failure is an `error` event (the status line is gone by then).
 */
import type { ServerResponse } from 'node:http';
import { Metadata, status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { WatchEvent } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest__Output } from '../../proto/generated/tenantconfig/v1/WatchRequest';
import type { WatchServiceCall } from '../watch-service';
import { problemHeaders, problemOfStatus } from './events-problem';
import { problemFrame, sseComment, watchEventFrame } from './sse-frames';

/** The hub hands one event object to every stream of a tenant: its frame is encoded once. */
const frames = new WeakMap<WatchEvent, string>();

function frameOf(event: WatchEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = watchEventFrame(event);
    frames.set(event, frame);
  }
  return frame;
}

export interface SseWatchCallOptions {
  readonly request: WatchRequest__Output;
  /** The `Authorization` header as received. */
  readonly authorization?: string;
  /** Unique per open TCP connection: what the per-connection stream limit counts. */
  readonly peer: string;
  /** Headers every answer carries (CORS). */
  readonly headers: Readonly<Record<string, string>>;
  /** A stream ended with an error whose client does not take the last bytes by then is closed hard. */
  readonly endGraceMs: number;
}

export class SseWatchCall implements WatchServiceCall {
  readonly metadata = new Metadata();
  readonly request: WatchRequest__Output;
  private started = false;
  private ended = false;
  private readonly cancelled: Array<() => void> = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseWatchCallOptions,
  ) {
    this.request = options.request;
    // Only legal metadata goes in (printable ASCII); anything else is a malformed header, which the Watch refuses as no token.
    if (options.authorization !== undefined && /^[ -~]*$/.test(options.authorization)) this.metadata.set('authorization', options.authorization);
    res.on('close', () => {
      if (this.ended) return;
      this.ended = true;
      for (const listener of this.cancelled) listener();
    });
  }

  getPeer(): string {
    return this.options.peer;
  }

  accepted(): void {
    this.start();
  }

  write(event: WatchEvent, sent: () => void): boolean {
    this.start();
    return this.res.write(frameOf(event), () => sent());
  }

  end(): void {
    if (this.ended) return;
    this.start();
    this.ended = true;
    this.res.end();
  }

  emit(_event: 'error', status: Pick<StatusObject, 'code' | 'details'>): boolean {
    if (this.ended) return true;
    this.ended = true;
    const problem = problemOfStatus(status.code ?? grpcStatus.UNKNOWN, status.details ?? '');
    if (!this.started) {
      const body = JSON.stringify(problem);
      this.res.writeHead(problem.status, { ...this.options.headers, ...problemHeaders(problem), 'content-length': String(Buffer.byteLength(body)) });
      this.res.end(body);
    } else {
      this.res.end(problemFrame(problem));
    }
    // A client that stopped reading never takes the last frame: its buffers go after a grace.
    if (!this.res.writableFinished) {
      const timer = setTimeout(() => this.res.destroy(), this.options.endGraceMs).unref();
      this.res.once('close', () => clearTimeout(timer));
    }
    return true;
  }

  on(event: 'drain' | 'cancelled', listener: () => void): this {
    if (event === 'cancelled') this.cancelled.push(listener);
    else this.res.on('drain', listener);
    return this;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      ...this.options.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies that buffer responses (nginx and the like) pass this one through as it comes.
      'x-accel-buffering': 'no',
    });
    // The headers and a first byte now: a fetch() resolves at once, even when no event is due yet (a resume with nothing new).
    this.res.write(sseComment('stream open'));
  }
}
