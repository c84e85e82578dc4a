/** Platform defaults and segment defaults: every principal reads them, operators write. */
import tenantSchema from '../../../registry/tenants.json';
import { itemsPath, type ItemScope } from '../api/item-scope';
import type { Item, Page } from '../api/types';
import { canWrite } from '../auth/abilities';
import { Notice, ProblemAlert, ViewHeading, useAsync } from '../components/common';
import { links } from '../router';
import { useSession } from '../session-context';
import { ItemsTable, NewKey } from './keys-view';

interface AttributeDefinition {
  readonly values?: readonly string[];
  readonly segment?: boolean;
}

/** Segments in precedence order (the schema's attribute order: the first listed wins). */
export const SEGMENTS: readonly string[] = Object.entries((tenantSchema as unknown as { attributes: Record<string, AttributeDefinition> }).attributes)
  .filter(([, a]) => a.segment && a.values)
  .flatMap(([name, a]) => a.values!.map((v) => `${name}=${v}`));

const scopeOf = (layer: string): ItemScope => (layer === 'platform' ? { kind: 'platform' } : { kind: 'segment', segment: layer });

export function LayersView({ layer = 'platform' }: { layer?: string }) {
  const { api, who } = useSession();
  const scope = scopeOf(layer);
  const items = useAsync(async (signal) => (await api.get<Page<Item>>(`${itemsPath(scope)}?limit=100`, { signal })).body, [layer]);
  return (
    <section>
      <ViewHeading>Defaults &amp; segments</ViewHeading>
      <p class="hint">A tenant’s own value wins over its segments’ (in the order listed), which win over the platform default.</p>
      <nav aria-label="Layers" class="layer-nav">
        <ul>
          {['platform', ...SEGMENTS].map((l) => (
            <li key={l}>
              <a href={links.layers(l)} aria-current={l === layer ? 'page' : undefined}>
                {l === 'platform' ? 'Platform defaults' : l}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <h3>{layer === 'platform' ? 'Platform defaults' : `Segment ${layer}`}</h3>
      <ProblemAlert error={items.error} />
      {items.loading ? <p class="loading">Loading…</p> : null}
      {items.data && items.data.items.length === 0 ? <Notice>This layer holds no key.</Notice> : null}
      {items.data && items.data.items.length > 0 ? (
        <ItemsTable
          scope={scope}
          items={items.data.items.map((i) => ({ ...i, source: i.source ?? (layer === 'platform' ? 'platform' : `segment:${layer}`) }))}
          caption={`Keys of ${layer}`}
        />
      ) : null}
      {canWrite(who, scope) ? <NewKey key={layer} scope={scope} onCreated={items.reload} /> : null}
    </section>
  );
}
