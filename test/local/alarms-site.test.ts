/** `PUT|GET /local/alarms/{name}` (local/alarms-site.ts): sets the local alarms rollouts watch; bad input is a 4xx problem, never a 500. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alarmsSite } from '../../local/alarms-site';
import { LocalAlarms } from '../../local/local-alarms';

describe('local alarms site', () => {
  let server: Server;
  let base: string;
  const alarms = new LocalAlarms();

  beforeAll(async () => {
    const site = alarmsSite(alarms);
    server = createServer((req, res) => {
      if (!site(req, res, decodeURIComponent(req.url ?? '/'))) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const put = (name: string, body: string) => fetch(`${base}/local/alarms/${name}`, { method: 'PUT', body });

  it('sets an alarm that the driver then reads, and answers its state on GET', async () => {
    const res = await put('errors', '{"state":"ALARM"}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'errors', state: 'ALARM' });
    expect((await alarms.statesOf(['errors'])).get('errors')).toBe('ALARM');
    expect(await (await fetch(`${base}/local/alarms/errors`)).json()).toEqual({ name: 'errors', state: 'ALARM' });
    // Any other name is an alarm in OK until set.
    expect(await (await fetch(`${base}/local/alarms/other`)).json()).toEqual({ name: 'other', state: 'OK' });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an unknown state', '{"state":"RED"}', /"state"/],
    ['no state', '{}', /"state"/],
    ['not an object', '"ALARM"', /"state"/],
    ['a body over 1 KiB', `{"state":"ALARM","pad":"${'x'.repeat(2000)}"}`, /over 1024 bytes/],
  ])('refuses %s with a 400 problem and leaves the alarm as it was', async (_what, body, detail) => {
    await put('steady', '{"state":"OK"}');
    const res = await put('steady', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    expect((await alarms.statesOf(['steady'])).get('steady')).toBe('OK');
  });

  it('answers 405 with Allow for another method', async () => {
    const res = await fetch(`${base}/local/alarms/errors`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PUT');
  });
});
