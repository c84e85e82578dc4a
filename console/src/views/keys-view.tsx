/** A tenant's keys: effective values with the layer each comes from, a prefix filter, and a new key for writers. */
import { useState } from 'preact/hooks';
import { itemPath, itemsPath, type ItemScope } from '../api/item-scope';
import type { Item, Page } from '../api/types';
import { canWrite, isOperator, tenantScope } from '../auth/abilities';
import { Notice, ProblemAlert, SourceBadge, ViewHeading, compactJson, formatTime, useAsync } from '../components/common';
import { ValueEditor, checkValueText } from '../components/value-editor';
import { links } from '../router';
import { useSession } from '../session-context';

export function KeysView({ tenant }: { tenant: string }) {
  const { api, who } = useSession();
  const scope = tenantScope(who, tenant);
  const [prefix, setPrefix] = useState('');
  const [applied, setApplied] = useState('');
  const [pages, setPages] = useState<Item[][]>([]);
  const first = useAsync(
    async (signal) => {
      const params = new URLSearchParams({ limit: '100', ...(applied ? { prefix: applied } : {}) });
      const page = (await api.get<Page<Item>>(`${itemsPath(scope)}?${params}`, { signal })).body;
      setPages([]);
      return page;
    },
    [tenant, applied],
  );
  const [next, setNext] = useState<{ token?: string; error?: unknown }>({});
  const nextToken = pages.length > 0 ? next.token : first.data?.nextToken;
  const loadMore = async () => {
    try {
      const params = new URLSearchParams({ limit: '100', nextToken: nextToken!, ...(applied ? { prefix: applied } : {}) });
      const page = (await api.get<Page<Item>>(`${itemsPath(scope)}?${params}`)).body;
      setPages((p) => [...p, page.items]);
      setNext({ token: page.nextToken });
    } catch (error) {
      setNext({ token: nextToken, error });
    }
  };
  const items = [...(first.data?.items ?? []), ...pages.flat()];

  return (
    <section>
      <ViewHeading>Keys of {tenant}</ViewHeading>
      {isOperator(who) ? (
        <p>
          <a href={links.tenants()}>← all tenants</a>
        </p>
      ) : null}
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(prefix.trim());
        }}
      >
        <label>
          Key prefix
          <input value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} placeholder="tenantconfig: or paramconfig:db/" />
        </label>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <ProblemAlert error={first.error ?? next.error} />
      {first.loading ? <p class="loading">Loading keys…</p> : null}
      {!first.loading && !first.error && items.length === 0 ? <Notice>No key{applied ? ` under ${applied}` : ''} yet.</Notice> : null}
      {items.length > 0 ? <ItemsTable scope={scope} items={items} caption={`Effective configuration of ${tenant}`} /> : null}
      {nextToken ? (
        <button type="button" class="secondary" onClick={() => void loadMore()}>
          Load more keys
        </button>
      ) : null}
      {canWrite(who, scope) ? <NewKey scope={scope} onCreated={first.reload} /> : null}
    </section>
  );
}

export function ItemsTable({ scope, items, caption }: { scope: ItemScope; items: readonly Item[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="items">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
            <th scope="col">Source</th>
            <th scope="col">Version</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.key} data-key={item.key}>
              <th scope="row">
                <a href={links.key(scope, item.key)}>{item.key}</a>
              </th>
              <td>
                <code class="value">{compactJson(item.value)}</code>
              </td>
              <td>
                <SourceBadge source={item.source} />
              </td>
              <td>{item.version}</td>
              <td>
                {formatTime(item.updatedAt)} <span class="hint">by {item.updatedBy}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function NewKey({ scope, onCreated }: { scope: ItemScope; onCreated: () => void }) {
  const { api } = useSession();
  const [key, setKey] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>();
  const check = checkValueText(key, text);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (check.problems.length > 0) return;
    setError(undefined);
    try {
      // Create only: a key someone else created meanwhile comes back 412, not overwritten.
      await api.request('PUT', itemPath(scope, key.trim()), { body: { value: check.value }, headers: { 'if-none-match': '*' } });
      location.hash = links.key(scope, key.trim());
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="new-key">
      <h3 id="new-key">New key</h3>
      <label>
        Key
        <input required value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="tenantconfig:plan" />
      </label>
      <ValueEditor id="new-value" itemKey={key} text={text} onInput={setText} rows={4} />
      <button type="submit" disabled={!key || check.problems.length > 0}>
        Create key
      </button>
      <ProblemAlert error={error} />
    </form>
  );
}
