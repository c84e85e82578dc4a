/**
 * What `GET /v1/events` asks for, read into the Watch's own request, so every check after this
 * (tenants, prefixes, cursor) is the Watch's:
 * - `tenants`: tenant ids separated by commas (or repeated), or `*`; absent = the token's own tenant;
 * - `prefix`: a key prefix, repeated for several (keys hold no commas, but one per parameter is plainer);
 * - `cursor`, or the `Last-Event-ID` header, which wins: it is what the client saw last;
 * - snapshots always come in pages (one SSE event per page), for one tenant or many.
 * Anything else in the query is refused, so a misspelt parameter never silently widens a stream.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidRequestError } from '../../core/errors';
import type { WatchRequest__Output } from '../../proto/generated/tenantconfig/v1/WatchRequest';

const PARAMETERS = new Set(['tenants', 'prefix', 'cursor']);

export function watchRequestOf(query: URLSearchParams, headers: IncomingHttpHeaders): WatchRequest__Output {
  for (const name of new Set(query.keys())) {
    if (!PARAMETERS.has(name)) throw new InvalidRequestError(`unknown query parameter '${name.slice(0, 64)}': expected tenants, prefix or cursor`);
  }
  const tenants = query
    .getAll('tenants')
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const prefixes = query.getAll('prefix').filter((p) => p.length > 0);
  const cursors = query.getAll('cursor');
  if (cursors.length > 1) throw new InvalidRequestError("'cursor' may be given once");
  const lastEventId = headers['last-event-id'];
  const cursor = (typeof lastEventId === 'string' && lastEventId.trim() !== '' ? lastEventId : (cursors[0] ?? '')).trim();
  // Browsers evaluate no flags: the registry attributes (WatchRequest.include_attributes) are not asked for.
  return { tenants, prefixes, resume_cursor: cursor, paged_snapshots: true, include_attributes: false };
}
