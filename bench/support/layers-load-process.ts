/**
 * Child process: the load client of the layers benchmark. Opens Watch streams, `streamsPerTenant`
 * per tenant, multiplexed `perChannel` per channel (each channel its own HTTP/2 connection),
 * waits for every snapshot, and records per stream when a change of one key with one value
 * arrives, and any other change of that key (bench/support/watch-streams.ts). IPC:
 * - `{type:'open', target, tokensFile, streams, perChannel, key, prefixes}` → `{type:'opened', streams, failed, channels, snapshotSources}`;
 * - `{type:'arm', value}` → `{type:'armed'}`: from now on a change of `key` to `value` is an arrival;
 * - `{type:'await', timeoutMs, quietMs}` → waits until every expected stream (those of tenants
 *   without their own value when `expect` is 'inheriting', else all) has its arrival or the
 *   timeout passes, then `quietMs` more, and answers `{type:'arrived', arrivals, expected,
 *   reached, wronglyNotified, duplicates, otherChanges}` with `arrivals` the wall-clock ms of
 *   each expected stream's arrival.
 */
import { serveKeyWatchLoad, type KeyStream, type KeyWatchMessage } from './watch-streams';

interface Message extends KeyWatchMessage {
  expect?: 'inheriting' | 'all';
}

serveKeyWatchLoad<Message>((m, load) => {
  if (m.type === 'arm') {
    load.arm(m.value);
    process.send?.({ type: 'armed' });
  } else if (m.type === 'await') {
    const expectedOf = (s: KeyStream) => !s.failed && (m.expect === 'all' || !s.overrides);
    const expected = load.streams.filter(expectedOf);
    load.answerArrived(
      expected,
      // Streams of tenants with their own value that got a change of the key (today's way overwrites it).
      () => ({ wronglyNotified: load.streams.filter((s) => !s.failed && s.overrides && s.changesOfKey > 0).length }),
      m.timeoutMs,
      m.quietMs,
    );
  }
});
