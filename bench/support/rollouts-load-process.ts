/**
 * Child process: the load client of the rollouts benchmark (the layers benchmark's, with the
 * bucket rule; bench/support/watch-streams.ts). Opens Watch streams, `streamsPerTenant` per
 * tenant, `perChannel` per channel (each channel its own HTTP/2 connection), waits for every
 * snapshot, and records per stream when a change of one key to one value arrives, and any other
 * change of that key. IPC:
 * - `{type:'open', target, tokensFile, streams, perChannel, key, prefixes}` → `{type:'opened', streams, failed, channels, snapshotSources}`;
 * - `{type:'arm', value, percent}` → `{type:'armed', expected}`: from now on a change of `key` to
 *   `value` is an arrival, expected on the streams of tenants without their own value whose
 *   bucket (core/bucket.ts `rolloutBucket`) is below `percent`;
 * - `{type:'await', timeoutMs, quietMs}` → waits until every expected stream has its arrival or
 *   the timeout passes, then `quietMs` more, and answers `{type:'arrived', arrivals, expected,
 *   reached, wronglyNotified, duplicates, otherChanges}`: `arrivals` the wall-clock ms of each
 *   expected stream's arrival, `wronglyNotified` the other streams that got any change of the key.
 */
import { rolloutBucket } from '../../core/bucket';
import { serveKeyWatchLoad, type KeyWatchMessage } from './watch-streams';

interface Message extends KeyWatchMessage {
  /** The armed change reaches the streams of tenants without their own value whose bucket is below this. */
  percent?: number;
}

serveKeyWatchLoad<Message>((m, load) => {
  if (m.type === 'arm') {
    load.arm(m.value, (s) => !s.failed && !s.overrides && rolloutBucket(load.key, s.tenant) < m.percent!);
    process.send?.({ type: 'armed', expected: load.streams.filter((s) => s.expected).length });
  } else if (m.type === 'await') {
    const expected = load.streams.filter((s) => s.expected);
    load.answerArrived(
      expected,
      () => ({
        // Streams the change must not reach (out of the wave, or with the tenant's own value) that got a change of the key.
        wronglyNotified: load.streams.filter((s) => !s.failed && !s.expected && s.changesOfKey > 0).length,
        wronglyNotifiedOverriding: load.streams.filter((s) => !s.failed && s.overrides && s.changesOfKey > 0).length,
      }),
      m.timeoutMs,
      m.quietMs,
    );
  }
});
