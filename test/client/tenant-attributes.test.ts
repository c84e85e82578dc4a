/**
 * A tenant's registry attributes in the SDK (`WatchRequest.include_attributes`): the `@attributes`
 * items and changes are decoded apart from the keys, held per tenant beside its store (never in
 * `keys`, `get` or change listeners), version-guarded, replaced by a snapshot that covers the
 * tenant and dropped with it.
 */
import { TenantSet } from '../../client/tenant-set';
import { decodeEvent } from '../../client/watch-call';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const item = (tenant: string, key: string, valueJson: string, version = 1, source = 'tenant') => ({
  key,
  value_json: valueJson,
  version,
  updated_at: '2026-01-01T00:00:00.000Z',
  updated_by: 'op',
  tenant_id: tenant,
  source,
});

describe('decoding @attributes', () => {
  it('a snapshot’s @attributes items are attributes, not items', () => {
    // Arrange
    const event = {
      event: 'snapshot',
      snapshot: {
        items: [item('acme', '@attributes', '{"plan":"gold"}', 3, 'registry'), item('acme', 'tenantconfig:a', '1')],
        cursor: 'c1',
        reason: 'INITIAL',
        more: false,
      },
    } as unknown as WatchEvent__Output;

    // Act
    const decoded = decodeEvent(event, quiet);

    // Assert
    expect(decoded).toMatchObject({
      kind: 'snapshot',
      items: [{ tenantId: 'acme', item: { key: 'tenantconfig:a', value: 1 } }],
      attributes: [{ tenantId: 'acme', attributes: { plan: 'gold' }, version: 3 }],
    });
  });

  it('a change of @attributes is an attributes event; deleted has no attributes; one not an object of strings only moves the cursor', () => {
    const change = (valueJson: string, deleted = false) =>
      ({ event: 'change', change: { ...item('acme', '@attributes', valueJson, 4, 'registry'), deleted, cursor: 'c9' } }) as unknown as WatchEvent__Output;

    expect(decodeEvent(change('{"plan":"pro"}'), quiet)).toEqual({
      kind: 'attributes',
      cursor: 'c9',
      update: { tenantId: 'acme', version: 4, attributes: { plan: 'pro' } },
    });
    expect(decodeEvent(change('', true), quiet)).toEqual({ kind: 'attributes', cursor: 'c9', update: { tenantId: 'acme', version: 4 } });
    expect(decodeEvent(change('{"plan":7}'), quiet)).toEqual({ kind: 'cursor', cursor: 'c9' });
    expect(decodeEvent(change('["gold"]'), quiet)).toEqual({ kind: 'cursor', cursor: 'c9' });
  });
});

describe('TenantSet: attributes beside the keys', () => {
  const gold = { tenantId: 'acme', attributes: { plan: 'gold' }, version: 2 };

  it('a snapshot of every tenant holds them apart from the keys, and a registered tenant without keys is a tenant of the fleet', () => {
    // Arrange
    const set = new TenantSet('all', quiet);

    // Act
    set.applySnapshot(
      [{ tenantId: 'acme', item: { key: 'tenantconfig:a', value: 1, version: 1, updatedAt: '', updatedBy: '' } }],
      ['*'],
      [gold, { tenantId: 'bare', attributes: { plan: 'free' }, version: 1 }],
    );

    // Assert
    expect(set.keys('acme')).toEqual(['tenantconfig:a']);
    expect(set.item('acme', '@attributes')).toBeUndefined();
    expect(set.attributesOf('acme')).toEqual({ plan: 'gold' });
    expect(set.attributesOf('bare')).toEqual({ plan: 'free' });
    expect(set.ids().sort()).toEqual(['acme', 'bare']);
    expect(set.attributesOf('nobody')).toBeUndefined();
  });

  it('changes are version-guarded, a delete at the same version wins, listeners hear changes (not the first state) and no key listener does', () => {
    // Arrange
    const set = new TenantSet('all', quiet);
    const heard: unknown[] = [];
    const keys: unknown[] = [];
    set.onAttributesChange('acme', (a) => heard.push(a));
    set.onChange('acme', (c) => keys.push(c.key));
    set.applySnapshot([], ['*'], [gold]);

    // Act + Assert
    expect(set.applyAttributes({ tenantId: 'acme', attributes: { plan: 'free' }, version: 1 })).toBe(false);
    expect(set.applyAttributes({ tenantId: 'acme', attributes: { plan: 'pro' }, version: 3 })).toBe(true);
    expect(set.attributesOf('acme')).toEqual({ plan: 'pro' });
    expect(set.applyAttributes({ tenantId: 'acme', version: 3 })).toBe(true);
    expect(set.attributesOf('acme')).toBeUndefined();
    expect(heard).toEqual([{ plan: 'pro' }, {}]);
    expect(keys).toEqual([]);
  });

  it('a snapshot covering a tenant replaces them (none in it: none held); dropping the tenant drops them', () => {
    // Arrange
    const set = new TenantSet('on-demand', quiet);
    set.ensure('acme');
    set.ensure('globex');
    set.applySnapshot([], ['acme', 'globex'], [gold, { tenantId: 'globex', attributes: { plan: 'pro' }, version: 1 }]);

    // Act
    set.applySnapshot([], ['acme'], []);
    set.drop('globex');

    // Assert
    expect(set.attributesOf('acme')).toBeUndefined();
    expect(set.attributesOf('globex')).toBeUndefined();
  });
});
