/** Changes as they arrive, over `GET /v1/events`: the snapshot's size, then every change, newest first. */
import { useEffect, useState } from 'preact/hooks';
import { followEvents, type SseFrame, type StreamStatus } from '../api/event-stream';
import type { ApiError } from '../api/problem';
import type { Item } from '../api/types';
import { isOperator } from '../auth/abilities';
import { ProblemAlert, SourceBadge, ViewHeading, compactJson, formatTime } from '../components/common';
import { links } from '../router';
import { useSession } from '../session-context';

interface StreamItem extends Item {
  readonly tenantId?: string;
  readonly deleted?: boolean;
}

interface Arrival {
  readonly seq: number;
  readonly at: Date;
  readonly item: StreamItem;
}

const KEEP = 200;

export function LiveView() {
  const { events, who } = useSession();
  const [tenants, setTenants] = useState(isOperator(who) ? '*' : '');
  const [prefix, setPrefix] = useState('');
  const [request, setRequest] = useState({ tenants: isOperator(who) ? '*' : '', prefix: '' });
  const [status, setStatus] = useState<{ status: StreamStatus; detail?: string }>({ status: 'connecting' });
  const [fatal, setFatal] = useState<ApiError>();
  const [snapshotSize, setSnapshotSize] = useState<number>();
  const [arrivals, setArrivals] = useState<Arrival[]>([]);

  useEffect(() => {
    setFatal(undefined);
    setSnapshotSize(undefined);
    setArrivals([]);
    let seq = 0;
    let pages = 0;
    const query = new URLSearchParams();
    if (request.tenants) query.set('tenants', request.tenants);
    if (request.prefix) query.set('prefix', request.prefix);
    const onFrame = (frame: SseFrame) => {
      if (frame.event === 'snapshot') {
        const snapshot = JSON.parse(frame.data) as { items: StreamItem[]; more?: boolean };
        pages += snapshot.items.length;
        if (!snapshot.more) {
          setSnapshotSize(pages);
          pages = 0;
        }
      } else if (frame.event === 'change') {
        const item = JSON.parse(frame.data) as StreamItem;
        setArrivals((a) => [{ seq: seq++, at: new Date(), item }, ...a].slice(0, KEEP));
      }
    };
    const stream = followEvents(events, { query, onFrame, onStatus: (s, detail) => setStatus({ status: s, detail }), onFatal: setFatal });
    return () => stream.stop();
  }, [events, request.tenants, request.prefix]);

  return (
    <section>
      <ViewHeading>Live changes</ViewHeading>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setRequest({ tenants: tenants.trim(), prefix: prefix.trim() });
        }}
      >
        {isOperator(who) ? (
          <label>
            Tenants (comma-separated, or *)
            <input value={tenants} onInput={(e) => setTenants(e.currentTarget.value)} />
          </label>
        ) : null}
        <label>
          Key prefix
          <input value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} placeholder="any key" />
        </label>
        <button type="submit" class="secondary">
          Follow
        </button>
      </form>
      <p class={`stream-status stream-${status.status}`} role="status" data-status={status.status}>
        {status.status === 'live' ? '● live' : status.status}
        {status.detail ? ` — ${status.detail}` : ''}
        {snapshotSize !== undefined ? ` · ${snapshotSize} key${snapshotSize === 1 ? '' : 's'} in the snapshot` : ''}
      </p>
      <ProblemAlert error={fatal} label="The stream was refused" />
      <div role="log" aria-label="Changes, newest first">
        <ol class="arrivals">
          {arrivals.map(({ seq, at, item }) => (
            <li key={seq} class="arrival" data-key={item.key}>
              <span class="arrival-time">{at.toLocaleTimeString()}</span>{' '}
              {item.tenantId ? (
                <a href={links.keys(item.tenantId)} class="arrival-tenant">
                  {item.tenantId}
                </a>
              ) : null}{' '}
              <code>{item.key}</code> {item.deleted ? <em>deleted</em> : <code class="value">{compactJson(item.value, 60)}</code>}{' '}
              <SourceBadge source={item.source} />{' '}
              <span class="hint">
                v{item.version}
                {item.updatedBy ? ` by ${item.updatedBy}` : ''} {item.updatedAt ? formatTime(item.updatedAt) : ''}
              </span>
            </li>
          ))}
        </ol>
      </div>
      {arrivals.length === 0 && status.status === 'live' ? <p class="hint">Waiting for a change…</p> : null}
    </section>
  );
}
