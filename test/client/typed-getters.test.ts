/**
 * get(key, fallback) and the typed getters (getNumber, getBoolean, getString, getJson with a type
 * guard or a zod-like `parse`): on the client itself over a real stream, and on a tenant's view.
 */
import { ConfigClient, ConfigValueTypeError, createTestClient } from '../../client';
import { item, type ScriptedWatchServer, snapshotEvent, scriptedServerPerTest } from './support/scripted-watch-server';
import { fastTestOptions } from './support/wait';

let server: ScriptedWatchServer;
const clients: ConfigClient[] = [];
scriptedServerPerTest(clients, (s) => (server = s));

interface Limits {
  max: number;
}
const isLimits = (v: unknown): v is Limits => typeof v === 'object' && v !== null && typeof (v as Limits).max === 'number';
const limitsParser = {
  parse(v: unknown): Limits {
    if (!isLimits(v)) throw new Error('Expected { max: number }');
    return { max: v.max };
  },
};

describe('typed getters', () => {
  it('on a live client: values of the right type, fallbacks for absent keys, a typed error naming what was found', async () => {
    server.script = (w) =>
      w.call.write(
        snapshotEvent(
          [
            item('tenantconfig:plan', 'gold', 1),
            item('tenantconfig:seats', 12, 1),
            item('tenantconfig:beta', true, 1),
            item('tenantconfig:limits', { max: 3 }, 1),
            item('tenantconfig:count-as-text', '12', 1),
          ],
          '1-0',
        ),
      );
    const client = new ConfigClient({ grpcTarget: server.target, ...fastTestOptions() });
    clients.push(client);
    await client.start();

    expect(client.get('tenantconfig:plan', 'free')).toBe('gold');
    expect(client.get('tenantconfig:absent', 'free')).toBe('free');
    expect(client.get('tenantconfig:absent')).toBeUndefined();
    expect(client.getString('tenantconfig:plan')).toBe('gold');
    expect(client.getNumber('tenantconfig:seats', 1)).toBe(12);
    expect(client.getNumber('tenantconfig:absent', 5)).toBe(5);
    expect(client.getBoolean('tenantconfig:beta', false)).toBe(true);
    expect(client.getBoolean('tenantconfig:absent')).toBeUndefined();
    expect(client.getJson('tenantconfig:limits', isLimits)).toEqual({ max: 3 });
    expect(client.getJson('tenantconfig:limits', limitsParser)).toEqual({ max: 3 });
    expect(client.getJson('tenantconfig:limits')).toEqual({ max: 3 });
    expect(client.getJson('tenantconfig:absent', isLimits)).toBeUndefined();

    const wrong = (() => {
      try {
        client.getNumber('tenantconfig:count-as-text', 0);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(wrong).toBeInstanceOf(ConfigValueTypeError);
    expect(wrong).toMatchObject({ key: 'tenantconfig:count-as-text', expected: 'number', found: 'a string ("12")' });
    expect((wrong as Error).message).toBe('tenantconfig:count-as-text: expected a number, found a string ("12")');
    expect(() => client.getBoolean('tenantconfig:plan')).toThrow('expected a boolean, found a string ("gold")');
    expect(() => client.getString('tenantconfig:limits')).toThrow('expected a string, found an object (keys: max)');
    expect(() => client.getJson('tenantconfig:plan', isLimits)).toThrow(
      /expected a value the schema accepts, found a string \("gold"\) \(rejected by isLimits\)/,
    );
    expect(() => client.getJson('tenantconfig:plan', limitsParser)).toThrow(/Expected \{ max: number \}/);
    expect(() => client.getJson('tenantconfig:plan', limitsParser)).toThrow(ConfigValueTypeError);
  });

  it("on a tenant's view, the same getters", async () => {
    const client = createTestClient({}, { tenants: { acme: { 'tenantconfig:seats': 7, 'tenantconfig:beta': false } } });
    const acme = await client.forTenantReady('acme');

    expect(acme.getNumber('tenantconfig:seats')).toBe(7);
    expect(acme.getBoolean('tenantconfig:beta', true)).toBe(false);
    expect(acme.getString('tenantconfig:plan', 'free')).toBe('free');
    expect(acme.get('tenantconfig:plan', 'free')).toBe('free');
    expect(acme.getJson('tenantconfig:seats', (v): v is number => typeof v === 'number')).toBe(7);
    expect(() => acme.getString('tenantconfig:seats')).toThrow(new ConfigValueTypeError('tenantconfig:seats', 'string', 'a number (7)'));
    await client.close();
  });
});
