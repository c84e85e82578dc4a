/**
 * Stream limits: concurrent Watch streams per connection and per tenant in one process, each
 * refused with RESOURCE_EXHAUSTED and a message naming the limit; a slot comes back when a
 * stream ends; the HTTP/2 setting is advertised.
 */
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_CONNECTION_SETTINGS, serverOptions } from '../../fanout/server';
import { harnessPerSuite, waitFor, WatchRecorder, type FanoutHarness } from './harness';

describe('stream limits', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { heartbeatIntervalMs: 60_000, maxStreamsPerConnection: 3, maxStreamsPerIdentity: 4 } }, (x) => (h = x));

  it('refuses a Watch beyond the per-connection limit, says so, and lets one in again once a stream ends', async () => {
    // Arrange
    const client = h.client();
    const token = h.token('conn');
    const open = Array.from({ length: 3 }, () => new WatchRecorder(client, token, {}));
    await Promise.all(open.map((w) => w.until((r) => r.snapshots.length === 1)));

    // Act
    const refused = await new WatchRecorder(client, token, {}).status;
    const elsewhere = h.watch(token);
    await elsewhere.until((r) => r.snapshots.length === 1, 5000, 'a snapshot on another connection');
    open[0].cancel();
    await waitFor(() => h.server.stats().streamsOf('tenant:conn') === 3, 'the cancelled stream to end');
    const again = new WatchRecorder(client, token, {});
    await again.until((r) => r.snapshots.length === 1, 5000, 'a snapshot once a slot is free');

    // Assert
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/on this connection: the limit is 3 at once per connection/);
    expect(h.metrics.streamsRefused.connection).toBe(1);
    expect(again.done).toBeUndefined();
    for (const w of [...open, elsewhere, again]) w.cancel();
    await waitFor(() => h.server.stats().openStreams === 0, 'every stream to end');
  });

  it('refuses a Watch beyond the per-tenant limit of the process, says so, and leaves other tenants alone', async () => {
    // Arrange
    const token = h.token('crowd');
    const open = Array.from({ length: 4 }, () => h.watch(token));
    await Promise.all(open.map((w) => w.until((r) => r.snapshots.length === 1)));

    // Act
    const refused = await h.watch(token).status;
    const other = h.watch(h.token('quiet-neighbour'));
    await other.until((r) => r.snapshots.length === 1, 5000, "another tenant's snapshot");
    open[0].cancel();
    await waitFor(() => h.server.stats().streamsOf('tenant:crowd') === 3, 'the cancelled stream to end');
    const again = h.watch(token);
    await again.until((r) => r.snapshots.length === 1, 5000, 'a snapshot once a slot is free');

    // Assert
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/for tenant 'crowd' on this server: the limit is 4 at once per tenant per fanout process/);
    expect(h.metrics.streamsRefused.identity).toBe(1);
    expect(other.done).toBeUndefined();
    for (const w of [...open, other, again]) w.cancel();
    await waitFor(() => h.server.stats().openStreams === 0, 'every stream to end');
  });

  it('counts a stream refused for its token against neither limit', async () => {
    // Arrange
    const client = h.client();

    // Act: more bad calls than either limit allows at once, one after another.
    for (let i = 0; i < 5; i++) expect((await new WatchRecorder(client, 'not-a-jwt', {}).status).code).toBe(grpc.status.UNAUTHENTICATED);
    const ok = new WatchRecorder(client, h.token('crowd'), {});
    await ok.until((r) => r.snapshots.length === 1, 5000, 'a snapshot after the refused calls');

    // Assert
    expect(h.server.stats().streamsOf('tenant:crowd')).toBe(1);
    ok.cancel();
  });
});

describe('HTTP/2 concurrent streams', () => {
  it('advertises SETTINGS_MAX_CONCURRENT_STREAMS a little above the per-connection Watch limit', () => {
    expect(serverOptions(DEFAULT_CONNECTION_SETTINGS, 60_000, 100)['grpc.max_concurrent_streams']).toBe(116);
    expect(serverOptions(DEFAULT_CONNECTION_SETTINGS, 60_000)['grpc.max_concurrent_streams']).toBe(116);
  });
});
