/**
 * Watch events as server-sent events (text/event-stream), the browser's way to follow the
 * Watch: one frame per event, `event:` its kind, `id:` its resume cursor (when it has one),
 * `data:` one line of JSON in the shapes of the HTTP API (camelCase, `value` as JSON, not text).
 *
 * | event | id | data |
 * |---|---|---|
 * | `snapshot` | the cursor, on the last page only | `{items: [Item], reason: "INITIAL" \| "CURSOR_EXPIRED", more, cursor?}` |
 * | `change` | its cursor | `Item` + `deleted`, `cursor` (`value` absent when deleted) |
 * | `heartbeat` | the newest cursor | `{cursor}` |
 * | `reconnect` | — | `{reason}`: the server drains; reconnect with the last id |
 * | `error` | — | a problem (`type`, `title`, `status`, `detail`): the stream failed after it started |
 *
 * `Item` is `{tenantId, key, value, version, updatedAt, updatedBy, source}`. Comment lines
 * (`: …`) carry nothing and keep intermediaries from buffering or timing out the stream.
 */
import type { WatchEvent } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import type { Item } from '../../proto/generated/tenantconfig/v1/Item';
import type { Change } from '../../proto/generated/tenantconfig/v1/Change';
import type { EventsProblem } from './events-problem';

/** The event names a client switches on. */
export type SseEventName = 'snapshot' | 'change' | 'heartbeat' | 'reconnect' | 'error';

/** One frame. `data` is JSON text (never holds a raw line break); `id` must not either. */
export function sseFrame(event: SseEventName, data: string, id?: string): string {
  return `event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${data}\n\n`;
}

/** A comment line: ignored by every SSE parser, but bytes on the wire. */
export const sseComment = (text: string): string => `: ${text}\n\n`;

export const problemFrame = (problem: EventsProblem): string => sseFrame('error', JSON.stringify(problem));

/** The frame of a Watch event; value_json is spliced in as it is (it is JSON text already, serialized once). */
export function watchEventFrame(event: WatchEvent): string {
  switch (event.event) {
    case 'snapshot': {
      const s = event.snapshot!;
      const items = (s.items ?? []).map((item) => itemJson(item)).join(',');
      const last = s.more !== true;
      const cursor = last && s.cursor ? `,"cursor":${JSON.stringify(s.cursor)}` : '';
      return sseFrame(
        'snapshot',
        `{"items":[${items}],"reason":${JSON.stringify(s.reason ?? 'INITIAL')},"more":${!last}${cursor}}`,
        last ? s.cursor : undefined,
      );
    }
    case 'change': {
      const c = event.change!;
      return sseFrame(
        'change',
        `${itemJson(c, c.deleted === true).slice(0, -1)},"deleted":${c.deleted === true},"cursor":${JSON.stringify(c.cursor ?? '')}}`,
        c.cursor,
      );
    }
    case 'heartbeat':
      return sseFrame('heartbeat', JSON.stringify({ cursor: event.heartbeat?.cursor ?? '' }), event.heartbeat?.cursor);
    case 'reconnect':
      return sseFrame('reconnect', JSON.stringify({ reason: event.reconnect?.reason ?? '' }));
    default:
      throw new Error(`no SSE frame for Watch event '${String(event.event)}'`);
  }
}

function itemJson(item: Item | Change, deleted = false): string {
  const value = deleted || !item.value_json ? '' : `,"value":${item.value_json}`;
  return (
    `{"tenantId":${JSON.stringify(item.tenant_id ?? '')},"key":${JSON.stringify(item.key ?? '')}${value},"version":${Number(item.version ?? 0)},` +
    `"updatedAt":${JSON.stringify(item.updated_at ?? '')},"updatedBy":${JSON.stringify(item.updated_by ?? '')},"source":${JSON.stringify(item.source || 'tenant')}}`
  );
}
