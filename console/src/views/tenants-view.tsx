/** The tenant registry (operators): pages of tenants with their attributes, a search, and registering or changing one. */
import { useEffect, useState } from 'preact/hooks';
import type { Page, TenantRecord } from '../api/types';
import { ProblemAlert, Notice, ViewHeading, formatTime } from '../components/common';
import { links } from '../router';
import { useSession } from '../session-context';

const PAGE_SIZE = 50;

export function TenantsView() {
  const { api } = useSession();
  const [tenants, setTenants] = useState<TenantRecord[]>([]);
  const [nextToken, setNextToken] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>();
  const [query, setQuery] = useState('');
  const [reloads, setReloads] = useState(0);

  const loadPage = async (token: string | undefined, replace: boolean) => {
    setError(undefined);
    try {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE), ...(token ? { nextToken: token } : {}) });
      const page = (await api.get<Page<TenantRecord>>(`/v1/tenants?${params}`)).body;
      setTenants((t) => (replace ? page.items : [...t, ...page.items]));
      setNextToken(page.nextToken);
      setDone(true);
    } catch (e) {
      setError(e);
      setDone(true);
    }
  };
  useEffect(() => void loadPage(undefined, true), [reloads]);

  const q = query.trim().toLowerCase();
  const shown = q
    ? tenants.filter((t) => t.tenantId.toLowerCase().includes(q) || Object.entries(t.attributes).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(q)))
    : tenants;

  return (
    <section>
      <ViewHeading>Tenants</ViewHeading>
      <div class="toolbar">
        <label>
          Search tenants
          <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="id or attribute, e.g. plan=gold" />
        </label>
        <OpenTenant />
      </div>
      <ProblemAlert error={error} />
      {done && shown.length === 0 && !error ? <Notice>{q ? 'No loaded tenant matches.' : 'No tenant is registered yet.'}</Notice> : null}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Registered tenants{q ? `, matching “${query}”` : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col">Attributes</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <tr key={t.tenantId}>
                <td>
                  <a href={links.keys(t.tenantId)}>{t.tenantId}</a>
                  {t.offboarding ? <span class="badge badge-warn">offboarding</span> : null}
                </td>
                <td>
                  <ul class="attributes" aria-label={`attributes of ${t.tenantId}`}>
                    {Object.entries(t.attributes).map(([k, v]) => (
                      <li key={k}>
                        <code>
                          {k}={v}
                        </code>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  {formatTime(t.updatedAt)} <span class="hint">by {t.updatedBy}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {nextToken ? (
        <button type="button" class="secondary" onClick={() => void loadPage(nextToken, false)}>
          Load more tenants
        </button>
      ) : null}
      <RegisterTenant onSaved={() => setReloads((r) => r + 1)} />
    </section>
  );
}

function OpenTenant() {
  const [id, setId] = useState('');
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (id.trim()) location.hash = links.keys(id.trim());
      }}
    >
      <label>
        Open any tenant's keys
        <input value={id} onInput={(e) => setId(e.currentTarget.value)} placeholder="tenant id" />
      </label>
      <button type="submit" class="secondary">
        Open
      </button>
    </form>
  );
}

/** `plan=gold` lines to an attributes object. */
function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`'${line}' is not name=value`);
    attributes[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return attributes;
}

function RegisterTenant({ onSaved }: { onSaved: () => void }) {
  const { api } = useSession();
  const [id, setId] = useState('');
  const [attributes, setAttributes] = useState('plan=free');
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(undefined);
    try {
      const res = await api.request<TenantRecord>('PUT', `/v1/tenants/${encodeURIComponent(id.trim())}`, { body: { attributes: parseAttributes(attributes) } });
      setSaved(`${res.body.tenantId} saved (version ${res.body.version})`);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="register-tenant">
      <h3 id="register-tenant">Register or change a tenant</h3>
      <label>
        Tenant id
        <input required value={id} onInput={(e) => setId(e.currentTarget.value)} />
      </label>
      <label>
        Attributes, one <code>name=value</code> a line
        <textarea rows={3} value={attributes} onInput={(e) => setAttributes(e.currentTarget.value)} />
      </label>
      <button type="submit">Save tenant</button>
      <ProblemAlert error={error} />
      {saved ? <Notice>{saved}</Notice> : null}
    </form>
  );
}
