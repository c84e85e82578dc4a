/**
 * Property: two tenants holding the same key names never read, list or see the history
 * of each other's items through the handler, whatever the names are.
 */
import fc from 'fast-check';
import { adminClaims, readerClaims } from '../support/api-event';
import { createHarness, valueBody, type Harness } from '../support/harness';

const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}$/).filter((s) => s !== '.' && s !== '..');
const name = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const tag = fc.constantFrom('tenantconfig', 'paramconfig', 'secretconfig');
const keys = fc.uniqueArray(fc.tuple(tag, name).map(([t, n]) => `${t}:${n}`), { minLength: 1, maxLength: 6 });

async function listAll(api: Harness, tenant: string, prefix?: string): Promise<Array<{ key: string; value: unknown }>> {
  const items: Array<{ key: string; value: unknown }> = [];
  let nextToken: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const query: Record<string, string> = { limit: '2' };
    if (prefix) query.prefix = prefix;
    if (nextToken) query.nextToken = nextToken;
    const reply = await api.call({ method: 'GET', path: '/v1/config', query, claims: readerClaims(tenant) });
    expect(reply.status).toBe(200);
    items.push(...reply.body.items);
    nextToken = reply.body.nextToken;
    if (!nextToken) return items;
  }
  throw new Error('listing did not end');
}

describe('config-api handler: tenant isolation (property)', () => {
  it('tenants with the same key names only ever see their own values', async () => {
    await fc.assert(
      fc.asyncProperty(keys, fc.boolean(), async (keyList, secondWritesAll) => {
        const api = createHarness();
        const tenants = ['acme', 'globex'];
        const valueOf = (tenant: string, key: string) => `${tenant}|${key}`;
        // globex holds either the same names or only some of them: a missing key must stay missing.
        const held: Record<string, string[]> = { acme: keyList, globex: secondWritesAll ? keyList : keyList.slice(0, 1) };
        for (const tenant of tenants) {
          for (const key of held[tenant]) {
            const reply = await api.call({ method: 'PUT', path: `/v1/config/${key}`, body: valueBody(valueOf(tenant, key)), claims: adminClaims(tenant) });
            expect(reply.status).toBe(201);
          }
        }

        for (const tenant of tenants) {
          for (const key of keyList) {
            const read = await api.call({ method: 'GET', path: `/v1/config/${key}`, claims: readerClaims(tenant) });
            const history = await api.call({ method: 'GET', path: `/v1/history/${key}`, claims: readerClaims(tenant) });
            if (held[tenant].includes(key)) {
              expect(read.body.value).toBe(valueOf(tenant, key));
              expect(history.body.items.map((e: { value: unknown }) => e.value)).toEqual([valueOf(tenant, key)]);
            } else {
              expect(read.status).toBe(404);
              expect(history.status).toBe(404);
            }
          }
          const listed = await listAll(api, tenant);
          expect(listed.map((i) => i.key).sort()).toEqual([...held[tenant]].sort());
          for (const item of listed) expect(item.value).toBe(valueOf(tenant, item.key));
          const firstTag = keyList[0].split(':')[0];
          const byPrefix = await listAll(api, tenant, `${firstTag}:`);
          for (const item of byPrefix) expect(item.value).toBe(valueOf(tenant, item.key));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a write by one tenant never changes the other tenant\'s item of the same name', async () => {
    await fc.assert(
      fc.asyncProperty(keys, async (keyList) => {
        const api = createHarness();
        for (const key of keyList) {
          await api.call({ method: 'PUT', path: `/v1/config/${key}`, body: valueBody('acme-v1'), claims: adminClaims('acme') });
          await api.call({ method: 'PUT', path: `/v1/config/${key}`, body: valueBody('globex-v1'), claims: adminClaims('globex') });
          // globex deletes its copy, with acme's ETag even: acme's item must survive untouched.
          const deleted = await api.call({ method: 'DELETE', path: `/v1/config/${key}`, headers: { 'if-match': '"1"' }, claims: adminClaims('globex') });
          expect(deleted.status).toBe(204);
        }
        for (const key of keyList) {
          const read = await api.call({ method: 'GET', path: `/v1/config/${key}`, claims: readerClaims('acme') });
          expect(read.body).toMatchObject({ value: 'acme-v1', version: 1, updatedBy: 'admin-of-acme' });
        }
      }),
      { numRuns: 25 },
    );
  });
});
