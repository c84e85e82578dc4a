/**
 * The HTTP/2 stream under a grpc-js server call, for the two things grpc-js has no public API
 * for: which connection a call came on (to count streams per connection), and resetting a
 * stream whose client stopped reading (a status cannot overtake the data queued before it on
 * the same stream, so only a reset reaches such a client and frees what is queued).
 *
 * It relies on grpc-js internals (`call.call.stream`, checked with 1.14.x, pinned in
 * package.json); when they are not there, both degrade: the peer address stands for the
 * connection, and the status waits behind the data as before. test/fanout covers both uses.
 */
import { constants as http2Constants, type ServerHttp2Stream } from 'node:http2';

interface StreamLike {
  readonly closed: boolean;
  readonly destroyed: boolean;
  readonly session?: object;
  close(code?: number): void;
  once(event: 'close', listener: () => void): unknown;
}

function isStreamLike(value: unknown): value is StreamLike {
  const v = value as Partial<StreamLike> | undefined;
  return typeof v === 'object' && v !== null && typeof v.close === 'function' && typeof v.once === 'function' && typeof v.closed === 'boolean';
}

/** The HTTP/2 stream of a server call, or undefined when grpc-js does not expose it as expected. */
export function http2StreamOf(call: object): ServerHttp2Stream | undefined {
  // ServerWritableStreamImpl.call is the intercepting call; without interceptors, the base call holding `stream`.
  let inner: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && inner; depth++) {
    const stream = (inner as { stream?: unknown }).stream;
    if (isStreamLike(stream)) return stream as unknown as ServerHttp2Stream;
    inner = (inner as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/** What identifies the connection of a call: its HTTP/2 session, else its peer address (unique per open TCP connection). */
export function connectionOf(call: { getPeer(): string }): object | string {
  return http2StreamOf(call)?.session ?? call.getPeer();
}

/**
 * Resets the call's stream with ENHANCE_YOUR_CALM (gRPC clients report RESOURCE_EXHAUSTED) unless
 * it has closed within `graceMs`: the grace lets a slow but reading client receive the status
 * and its explanation first. Returns false when the stream cannot be reached.
 */
export function resetUnlessClosed(call: object, graceMs: number): boolean {
  const stream = http2StreamOf(call) as unknown as StreamLike | undefined;
  if (!stream) return false;
  if (stream.closed || stream.destroyed) return true;
  const reset = (): void => {
    if (!stream.closed && !stream.destroyed) stream.close(http2Constants.NGHTTP2_ENHANCE_YOUR_CALM);
  };
  if (graceMs <= 0) {
    reset();
    return true;
  }
  const timer = setTimeout(reset, graceMs);
  stream.once('close', () => clearTimeout(timer));
  return true;
}
