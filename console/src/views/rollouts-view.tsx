/**
 * Rollouts of a default change (operators, docs/design.md §8.3): the list, one rollout's waves,
 * state and events with pause / resume / rollback as its state allows, and starting one.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Page, Rollout, RolloutState } from '../api/types';
import { JsonBlock, Notice, ProblemAlert, ViewHeading, formatTime, useAsync } from '../components/common';
import { ValueEditor, checkValueText } from '../components/value-editor';
import { links } from '../router';
import { useSession } from '../session-context';
import { SEGMENTS } from './layers-view';

const STATE_LABELS: Record<RolloutState, string> = { in_progress: 'in progress', paused: 'paused', complete: 'complete', rolled_back: 'rolled back' };
/** What each state allows; the API answers 409 for anything else. */
const ACTIONS: Record<RolloutState, readonly ('pause' | 'resume' | 'rollback')[]> = {
  in_progress: ['pause', 'rollback'],
  paused: ['resume', 'rollback'],
  complete: [],
  rolled_back: [],
};
const REFRESH_MS = 2000;

export function RolloutsView({ id }: { id?: string }) {
  return id ? <RolloutDetail id={id} /> : <RolloutList />;
}

function StateBadge({ state }: { state: RolloutState }) {
  return <span class={`badge badge-state-${state}`}>{STATE_LABELS[state] ?? state}</span>;
}

function RolloutList() {
  const { api } = useSession();
  const [token, setToken] = useState<string>();
  const list = useAsync(
    async (signal) =>
      (await api.get<Page<Rollout>>(`/v1/rollouts?${new URLSearchParams({ limit: '50', ...(token ? { nextToken: token } : {}) })}`, { signal })).body,
    [token],
  );
  const rollouts = list.data?.items ?? [];
  return (
    <section>
      <ViewHeading>Rollouts</ViewHeading>
      <ProblemAlert error={list.error} />
      {list.data && rollouts.length === 0 ? <Notice>No rollout yet.</Notice> : null}
      {rollouts.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Rollouts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Rollout</th>
                <th scope="col">Key</th>
                <th scope="col">Layer</th>
                <th scope="col">State</th>
                <th scope="col">Reached</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {rollouts.map((r) => (
                <tr key={r.id} data-rollout={r.id}>
                  <th scope="row">
                    <a href={links.rollouts(r.id)}>{r.id}</a>
                  </th>
                  <td>
                    <code>{r.key}</code>
                  </td>
                  <td>{r.layer}</td>
                  <td>
                    <StateBadge state={r.state} />
                  </td>
                  <td>
                    <progress max={100} value={r.percent} aria-label={`${r.percent} % of tenants`} /> {r.percent} %
                  </td>
                  <td>
                    {formatTime(r.createdAt)} <span class="hint">by {r.createdBy}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data?.nextToken ? (
        <button type="button" class="secondary" onClick={() => setToken(list.data!.nextToken)}>
          Older rollouts
        </button>
      ) : null}
      <StartRollout />
    </section>
  );
}

function RolloutDetail({ id }: { id: string }) {
  const { api } = useSession();
  const [rollout, setRollout] = useState<Rollout>();
  const [error, setError] = useState<unknown>();
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const { body } = await api.get<Rollout>(`/v1/rollouts/${encodeURIComponent(id)}`);
        if (stopped) return;
        setRollout(body);
        setError(undefined);
        if (body.state === 'in_progress') timer = setTimeout(() => void load(), REFRESH_MS);
      } catch (e) {
        if (!stopped) setError(e);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id, rollout?.state]);

  const act = async (action: 'pause' | 'resume' | 'rollback') => {
    setBusy(true);
    setActionError(undefined);
    try {
      setRollout((await api.request<Rollout>('POST', `/v1/rollouts/${encodeURIComponent(id)}/${action}`)).body);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <ViewHeading>Rollout {id}</ViewHeading>
      <p>
        <a href={links.rollouts()}>← all rollouts</a>
      </p>
      <ProblemAlert error={error} />
      {rollout ? (
        <>
          <div class="card">
            <p>
              <code>{rollout.key}</code> on <strong>{rollout.layer}</strong> — <StateBadge state={rollout.state} />
            </p>
            <p class="meta">
              started {formatTime(rollout.createdAt)} by {rollout.createdBy} · bake {rollout.bakeSeconds} s per wave
              {rollout.alarm ? ` · rolls back when alarm ${rollout.alarm} fires` : ''}
            </p>
            <JsonBlock value={rollout.value} label="the value rolled out" />
            <h3>Waves</h3>
            <ol class="waves" aria-label="Waves">
              {rollout.waves.map((percent, i) => {
                const status =
                  i < rollout.wave
                    ? 'done'
                    : i === rollout.wave && rollout.state !== 'complete'
                      ? 'current'
                      : rollout.state === 'complete'
                        ? 'done'
                        : 'pending';
                return (
                  <li key={i} class={`wave wave-${status}`} aria-current={status === 'current' ? 'step' : undefined}>
                    wave {i + 1}: {percent} % <span class="hint">({status})</span>
                  </li>
                );
              })}
            </ol>
            <p>
              <progress max={100} value={rollout.percent} aria-label="tenants that see the new value" /> {rollout.percent} % of tenants see the new value
            </p>
            <div class="actions" role="group" aria-label="Rollout actions">
              {ACTIONS[rollout.state].map((action) => (
                <button type="button" key={action} class={action === 'rollback' ? 'danger' : undefined} disabled={busy} onClick={() => void act(action)}>
                  {action === 'pause' ? 'Pause' : action === 'resume' ? 'Resume' : 'Roll back'}
                </button>
              ))}
            </div>
            <ProblemAlert error={actionError} />
          </div>
          <div class="card">
            <h3>Events</h3>
            <ol class="events">
              {rollout.events.map((e, i) => (
                <li key={i}>
                  {formatTime(e.at)} — <strong>{e.action}</strong> by {e.by} (wave {e.wave + 1}, {e.percent} %)
                </li>
              ))}
            </ol>
          </div>
        </>
      ) : null}
    </section>
  );
}

function StartRollout() {
  const { api } = useSession();
  const [key, setKey] = useState('');
  const [layer, setLayer] = useState('platform');
  const [text, setText] = useState('');
  const [waves, setWaves] = useState('1, 10, 50, 100');
  const [bake, setBake] = useState('60');
  const [alarm, setAlarm] = useState('');
  const [error, setError] = useState<unknown>();
  const [refused, setRefused] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const check = checkValueText(key, text);
    const waveList = waves
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    if (check.problems.length > 0) return setRefused(`Not sent: ${check.problems.join('; ')}`);
    if (waveList.some((w) => !Number.isInteger(w) || w < 1 || w > 100)) return setRefused('Not sent: waves are whole percentages from 1 to 100');
    setRefused(undefined);
    try {
      const body = {
        key: key.trim(),
        layer: layer === 'platform' ? 'platform' : `segment:${layer}`,
        value: check.value,
        waves: waveList,
        bakeSeconds: Number(bake),
        ...(alarm.trim() ? { alarm: alarm.trim() } : {}),
      };
      const { body: created } = await api.request<Rollout>('POST', '/v1/rollouts', { body });
      location.hash = links.rollouts(created.id);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="start-rollout" noValidate>
      <h3 id="start-rollout">Start a rollout</h3>
      <div class="grid-2">
        <label>
          Key
          <input required value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="tenantconfig:limits" />
        </label>
        <label>
          Layer
          <select value={layer} onChange={(e) => setLayer(e.currentTarget.value)}>
            {['platform', ...SEGMENTS].map((l) => (
              <option key={l} value={l}>
                {l === 'platform' ? 'platform default' : `segment ${l}`}
              </option>
            ))}
          </select>
        </label>
        <label>
          Waves (% of tenants)
          <input value={waves} onInput={(e) => setWaves(e.currentTarget.value)} />
        </label>
        <label>
          Bake time per wave (s)
          <input type="number" min={0} value={bake} onInput={(e) => setBake(e.currentTarget.value)} />
        </label>
        <label>
          Alarm (optional)
          <input value={alarm} onInput={(e) => setAlarm(e.currentTarget.value)} placeholder="alarm name" />
        </label>
      </div>
      <ValueEditor id="rollout-value" itemKey={key} text={text} onInput={setText} rows={4} label="New value (JSON)" />
      <button type="submit">Start rollout</button>
      {refused ? (
        <div class="problem" role="alert">
          {refused}
        </div>
      ) : null}
      <ProblemAlert error={error} />
    </form>
  );
}
