/**
 * A Watch call written straight onto an HTTP/2 session and never read: the client a fanout must
 * survive (its flow-control window is never given back). Shared by the tests and the benchmark.
 */
import type * as http2 from 'node:http2';

/** The gRPC frame of a WatchRequest with only paged_snapshots (field 3, varint 1) set, or of an empty one. */
export function watchRequestFrame(pagedSnapshots: boolean): Buffer {
  const body = pagedSnapshots ? Buffer.from([0x18, 0x01]) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
}

/** Sends the Watch on `session` and pauses its stream, so nothing it receives is ever read. */
export function openUnreadWatch(session: http2.ClientHttp2Session, token: string, pagedSnapshots: boolean): http2.ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/tenantconfig.v1.ConfigWatch/Watch',
    'content-type': 'application/grpc',
    te: 'trailers',
    authorization: `Bearer ${token}`,
  });
  stream.on('error', () => undefined);
  stream.end(watchRequestFrame(pagedSnapshots));
  stream.pause();
  return stream;
}
