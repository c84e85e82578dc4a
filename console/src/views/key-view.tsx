/**
 * One key in one layer: its effective value and source, an editor that checks the value before
 * sending and writes with If-Match (a concurrent change comes back 412 and is shown, never
 * overwritten), and its history with a side-by-side diff of any two versions and restore.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { historyPath, itemPath, describeScope, sourceOf, type ItemScope } from '../api/item-scope';
import { ApiError } from '../api/problem';
import type { HistoryEntry, Item, Json, Page } from '../api/types';
import { canWrite } from '../auth/abilities';
import { JsonBlock, Notice, ProblemAlert, SourceBadge, ViewHeading, formatTime, useAsync } from '../components/common';
import { ValueEditor, checkValueText } from '../components/value-editor';
import { VersionDiff } from '../components/version-diff';
import { isSecretKey } from '../schema/tag-rules';
import { links } from '../router';
import { useSession } from '../session-context';

/** The item as read, and the version a write must match on this layer (undefined: the layer holds none). */
interface Current {
  readonly item?: Item;
  readonly ownVersion?: number;
}

export function KeyView({ scope, itemKey }: { scope: ItemScope; itemKey: string }) {
  const { api, who } = useSession();
  const writable = canWrite(who, scope);
  const layer = sourceOf(scope);
  const current = useAsync<Current>(
    async (signal) => {
      try {
        const { body } = await api.get<Item>(itemPath(scope, itemKey), { signal });
        return { item: body, ownVersion: (body.source ?? layer) === layer ? body.version : undefined };
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return {};
        throw e;
      }
    },
    [itemKey, JSON.stringify(scope)],
  );
  const [historyTick, setHistoryTick] = useState(0);
  const changed = () => {
    current.reload();
    setHistoryTick((t) => t + 1);
  };
  const back =
    scope.kind === 'own' || scope.kind === 'tenant' ? links.keys(scope.tenant) : links.layers(scope.kind === 'platform' ? 'platform' : scope.segment);

  return (
    <section>
      <ViewHeading>
        <code>{itemKey}</code> <span class="hint">in {describeScope(scope)}</span>
      </ViewHeading>
      <p>
        <a href={back}>← back to the list</a>
      </p>
      <ProblemAlert error={current.error} />
      {current.data ? <CurrentValue current={current.data} layer={layer} /> : null}
      {writable && current.data ? <Editor scope={scope} itemKey={itemKey} current={current.data} onSaved={changed} /> : null}
      {!writable ? <p class="hint">You can read this key; changing it needs an admin of the tenant or a platform operator.</p> : null}
      <History scope={scope} itemKey={itemKey} tick={historyTick} writable={writable} ownVersion={current.data?.ownVersion} onRestored={changed} />
    </section>
  );
}

function CurrentValue({ current, layer }: { current: Current; layer: string }) {
  const item = current.item;
  if (!item) return <Notice>No value in this layer or any layer below it.</Notice>;
  return (
    <div class="card" aria-labelledby="current-value">
      <h3 id="current-value">
        Effective value <SourceBadge source={item.source ?? layer} />
      </h3>
      <p class="meta">
        version {item.version} · {formatTime(item.updatedAt)} by {item.updatedBy}
        {item.comment ? ` · “${item.comment}”` : ''}
      </p>
      {current.ownVersion === undefined && layer === 'tenant' ? (
        <p class="hint">The tenant has no value of its own: this comes from a default. Saving creates an override.</p>
      ) : null}
      <JsonBlock value={item.value} label="effective value" />
    </div>
  );
}

interface Conflict {
  readonly current?: Item;
  readonly mine: unknown;
}

function Editor({ scope, itemKey, current, onSaved }: { scope: ItemScope; itemKey: string; current: Current; onSaved: () => void }) {
  const { api } = useSession();
  const ownValue = current.ownVersion !== undefined ? current.item?.value : undefined;
  const [text, setText] = useState(() => (current.item ? JSON.stringify(current.item.value, null, 2) : ''));
  const [comment, setComment] = useState('');
  // The version this edit started from: what If-Match sends, kept when the page reloads the item.
  const [base, setBase] = useState<number | undefined>(current.ownVersion);
  const [refused, setRefused] = useState<readonly string[]>();
  const [error, setError] = useState<unknown>();
  const [conflict, setConflict] = useState<Conflict>();
  const [saved, setSaved] = useState<string>();
  const problemsRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (refused && problemsRef.current) problemsRef.current.focus();
  }, [refused]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(undefined);
    setConflict(undefined);
    const check = checkValueText(itemKey, text);
    if (check.problems.length > 0) return setRefused(check.problems);
    setRefused(undefined);
    const headers: Record<string, string> = base === undefined ? { 'if-none-match': '*' } : { 'if-match': `"${base}"` };
    try {
      const res = await api.request<Item>('PUT', itemPath(scope, itemKey), {
        body: { value: check.value, ...(comment.trim() ? { comment: comment.trim() } : {}) },
        headers,
      });
      setBase(res.body.version);
      setComment('');
      setSaved(`Saved as version ${res.body.version}.`);
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.isConflict) {
        const now = await api.get<Item>(itemPath(scope, itemKey)).then(
          (r) => r.body,
          () => undefined,
        );
        setConflict({ current: now, mine: check.value });
      } else setError(err);
    }
  };

  const takeTheirs = () => {
    if (!conflict) return;
    const theirs = conflict.current;
    setBase(theirs && (theirs.source ?? sourceOf(scope)) === sourceOf(scope) ? theirs.version : undefined);
    setText(theirs ? JSON.stringify(theirs.value, null, 2) : '');
    setConflict(undefined);
    onSaved();
  };
  const keepMine = () => {
    if (!conflict) return;
    const theirs = conflict.current;
    // Mine stays in the editor; the next save names the version now current, a deliberate overwrite.
    setBase(theirs && (theirs.source ?? sourceOf(scope)) === sourceOf(scope) ? theirs.version : undefined);
    setConflict(undefined);
    onSaved();
  };

  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="edit-heading" noValidate>
      <h3 id="edit-heading">Edit</h3>
      {isSecretKey(itemKey) ? <p class="hint">A secret tag: the value is stored encrypted and never logged.</p> : null}
      <ValueEditor id="edit-value" itemKey={itemKey} text={text} onInput={setText} />
      <label>
        Comment (kept in history)
        <input value={comment} maxLength={256} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      <p class="hint">
        {base === undefined
          ? 'Creates the value in this layer (refused if someone creates it first).'
          : `Saves over version ${base} only if it is still the current one.`}
      </p>
      <button type="submit">Save</button>
      {refused ? (
        <div class="problem" role="alert" tabIndex={-1} ref={problemsRef}>
          Not sent: the value does not match the tag’s rules.
          <ul>
            {refused.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <ProblemAlert error={error} />
      {saved ? <Notice>{saved}</Notice> : null}
      {conflict ? <ConflictPanel conflict={conflict} base={base} onTakeTheirs={takeTheirs} onKeepMine={keepMine} ownValue={ownValue} /> : null}
    </form>
  );
}

function ConflictPanel(props: { conflict: Conflict; base?: number; ownValue?: unknown; onTakeTheirs: () => void; onKeepMine: () => void }) {
  const theirs = props.conflict.current;
  return (
    <div class="conflict" role="alert" aria-labelledby="conflict-heading">
      <h4 id="conflict-heading">Conflict: this key changed since you opened it</h4>
      <p>
        Your change was not saved.{' '}
        {theirs ? `It is now version ${theirs.version}, written ${formatTime(theirs.updatedAt)} by ${theirs.updatedBy}.` : 'It has been deleted meanwhile.'}
      </p>
      <VersionDiff
        left={theirs?.value}
        right={props.conflict.mine}
        leftLabel={theirs ? `current (version ${theirs.version})` : 'current (deleted)'}
        rightLabel="yours"
      />
      <div class="actions">
        <button type="button" onClick={props.onTakeTheirs}>
          Discard mine, edit the current value
        </button>
        <button type="button" class="secondary" onClick={props.onKeepMine}>
          Keep mine, save over the current value next
        </button>
      </div>
    </div>
  );
}

function History(props: { scope: ItemScope; itemKey: string; tick: number; writable: boolean; ownVersion?: number; onRestored: () => void }) {
  const { api } = useSession();
  const history = useAsync(
    async (signal) => (await api.get<Page<HistoryEntry>>(`${historyPath(props.scope, props.itemKey)}?limit=100`, { signal })).body.items,
    [props.itemKey, props.tick, JSON.stringify(props.scope)],
  );
  const entries = history.data ?? [];
  const [left, setLeft] = useState<number>();
  const [right, setRight] = useState<number>();
  const [restoreError, setRestoreError] = useState<unknown>();
  const [restored, setRestored] = useState<string>();
  useEffect(() => {
    // Newest against the one before it, until the user picks.
    setRight(entries[0]?.version);
    setLeft(entries[1]?.version ?? entries[0]?.version);
  }, [history.data]);

  const restore = async (version: number) => {
    setRestoreError(undefined);
    setRestored(undefined);
    try {
      const headers: Record<string, string> = props.ownVersion === undefined ? {} : { 'if-match': `"${props.ownVersion}"` };
      const res = await api.request<Item>('POST', `${itemPath(props.scope, props.itemKey)}/restore`, { body: { version }, headers });
      setRestored(`Version ${version} restored as version ${res.body.version}.`);
      props.onRestored();
    } catch (e) {
      setRestoreError(e);
    }
  };

  const leftEntry = entries.find((e) => e.version === left);
  const rightEntry = entries.find((e) => e.version === right);
  return (
    <div class="card" aria-labelledby="history-heading">
      <h3 id="history-heading">History</h3>
      <ProblemAlert error={history.error} />
      <ProblemAlert error={restoreError} label="Restore failed" />
      {restored ? <Notice>{restored}</Notice> : null}
      {!history.loading && !history.error && entries.length === 0 ? <Notice>No history in this layer.</Notice> : null}
      {entries.length > 0 ? (
        <div class="table-wrap">
          <table class="history">
            <caption class="sr-only">Versions, newest first; choose two to compare</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Compare</th>
                <th scope="col">Written</th>
                <th scope="col">Comment</th>
                {props.writable ? <th scope="col">Restore</th> : null}
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.version} data-version={entry.version}>
                  <th scope="row">{entry.version}</th>
                  <td class="compare">
                    <label>
                      <input type="radio" name="diff-left" checked={left === entry.version} onChange={() => setLeft(entry.version)} />
                      <span class="sr-only">version {entry.version} </span>left
                    </label>
                    <label>
                      <input type="radio" name="diff-right" checked={right === entry.version} onChange={() => setRight(entry.version)} />
                      <span class="sr-only">version {entry.version} </span>right
                    </label>
                  </td>
                  <td>
                    {formatTime(entry.updatedAt)} <span class="hint">by {entry.updatedBy}</span>
                  </td>
                  <td>{entry.deleted ? <em>deleted</em> : (entry.comment ?? '')}</td>
                  {props.writable ? (
                    <td>
                      <button type="button" class="secondary" onClick={() => void restore(entry.version)} disabled={entry.deleted}>
                        Restore version {entry.version}
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {leftEntry && rightEntry ? (
        <VersionDiff
          left={leftEntry.value as Json}
          right={rightEntry.value as Json}
          leftLabel={`version ${leftEntry.version}`}
          rightLabel={`version ${rightEntry.version}`}
        />
      ) : null}
    </div>
  );
}
