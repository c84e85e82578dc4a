/**
 * The console as the local front serves it (local/console-site.ts): the built files with their
 * content types and the security headers CloudFront sends, index.html for views, 404 for a
 * missing asset, no path out of the build, the dev login's config and identities.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleSite, IDENTITIES_PATH } from '../../local/console-site';
import { openDevSigner } from '../../local/dev-signer';

describe('local console site', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-site-'));
    const dist = join(dir, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside the build');
    const site = consoleSite({ distDir: dist, signer: openDevSigner(join(dir, 'local')) });
    server = createServer((req, res) => {
      if (!site(req, res, decodeURIComponent(new URL(req.url!, 'http://x').pathname))) res.writeHead(404).end('not the site');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the built files with their content types and the security headers', async () => {
    const page = await fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const script = await fetch(`${base}/console/assets/index-abc.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
  });

  it('answers any view with index.html, a missing asset with 404, and never a file outside the build', async () => {
    const view = await fetch(`${base}/console/tenants/acme`);
    expect([view.status, await view.text()]).toEqual([200, '<!doctype html><title>console</title>']);
    expect((await fetch(`${base}/console/assets/gone.js`)).status).toBe(404);
    const escape = await fetch(`${base}/console/%2e%2e/secret.txt`);
    expect(await escape.text()).not.toContain('outside the build');
    expect((await fetch(`${base}/console/x`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/console`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
  });

  it('tells the page to use the dev login, and offers the demo identities with fresh tokens', async () => {
    expect(await (await fetch(`${base}/console/config.json`)).json()).toEqual({ apiUrl: '', auth: { kind: 'local', identitiesUrl: IDENTITIES_PATH } });
    const { identities } = (await (await fetch(`${base}${IDENTITIES_PATH}`)).json()) as { identities: Array<{ id: string; token: string }> };
    expect(identities.map((i) => i.id)).toEqual(['acme-reader', 'acme-admin', 'globex-admin', 'operator-alice']);
    const claims = JSON.parse(Buffer.from(identities[3].token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ username: 'alice', 'cognito:groups': ['platform-operators'], token_use: 'access' });
  });
});
