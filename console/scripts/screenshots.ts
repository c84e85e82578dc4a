/**
 * `npm run screenshots`: builds the console, starts a throwaway local system with some demo data,
 * and photographs the main views in headless Chromium into docs/screenshots/ (laptop width, and
 * the keys view at a 390 px phone width).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROUTE_KEYS } from '../../lambda/config-api/routes';
import { apiRequest, browserTestsUnavailable, signIn, startConsoleRig, type ConsoleRig } from '../../test/console/support/console-browser';

const OUT = join(__dirname, '..', '..', 'docs', 'screenshots');
const LAPTOP = { width: 1280, height: 800 };

async function seed(rig: ConsoleRig): Promise<void> {
  const op = rig.token('operator-alice');
  const acme = rig.token('acme-admin');
  const put = (token: string, path: string, body: unknown) => apiRequest(rig, token, 'PUT', path, body);
  await put(op, '/v1/tenants/acme', { attributes: { plan: 'gold', region: 'eu', owner: 'Ada (platform)' } });
  await put(op, '/v1/tenants/globex', { attributes: { plan: 'free', region: 'us' } });
  await put(op, '/v1/tenants/initech', { attributes: { plan: 'pro', region: 'apac', owner: 'Bill' } });
  await put(op, '/v1/tenants/umbrella', { attributes: { plan: 'enterprise', region: 'eu' } });
  await put(op, '/v1/defaults/tenantconfig:limits', { value: { seats: 5, projects: 3 }, comment: 'the default plan' });
  await put(op, '/v1/segments/plan=gold/tenantconfig:limits', { value: { seats: 50, projects: 20 } });
  await put(op, '/v1/defaults/flags:new-editor', { value: { enabled: false } });
  await put(acme, '/v1/config/tenantconfig:plan', { value: { tier: 'silver', seats: 10, support: 'email' }, comment: 'signed up' });
  await put(acme, '/v1/config/tenantconfig:plan', { value: { tier: 'gold', seats: 25, support: 'email' }, comment: 'upgrade' });
  await put(acme, '/v1/config/tenantconfig:plan', { value: { tier: 'gold', seats: 40, support: 'phone', sso: true }, comment: 'enterprise deal' });
  await put(acme, '/v1/config/paramconfig:db/pool/max', { value: 20 });
  await put(acme, '/v1/config/flags:beta', { value: { enabled: true, rolloutPercent: 20 } });
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });
  process.stdout.write(`docs/screenshots/${name}.png\n`);
}

async function main(): Promise<void> {
  execFileSync('npx', ['vite', 'build', 'console', '--logLevel', 'warn'], { stdio: 'inherit', cwd: join(__dirname, '..', '..') });
  const missing = browserTestsUnavailable();
  if (missing) throw new Error(`cannot take screenshots: ${missing}`);
  mkdirSync(OUT, { recursive: true });
  const rig = await startConsoleRig();
  try {
    await seed(rig);
    const operator = (await signIn(rig, 'operator-alice', LAPTOP)).page;
    await operator.getByRole('link', { name: 'umbrella' }).waitFor();
    await shoot(operator, 'tenants');

    const admin = (await signIn(rig, 'acme-admin', LAPTOP)).page;
    await admin.locator('tr[data-key="tenantconfig:plan"]').waitFor();
    await shoot(admin, 'keys');

    await admin.goto(`${rig.consoleUrl}#/config/acme/key/tenantconfig:plan`);
    await admin.locator('tr[data-version="3"]').waitFor();
    await admin.getByRole('radio', { name: 'version 1 left' }).check();
    await admin.getByRole('heading', { name: 'History' }).scrollIntoViewIfNeeded();
    await admin.locator('.card table.diff').scrollIntoViewIfNeeded();
    await shoot(admin, 'history-diff');

    await admin.goto(`${rig.consoleUrl}#/config/acme/key/tenantconfig:plan`);
    await admin.getByText('Saves over version 3').waitFor();
    await admin.getByLabel('Value (JSON)').fill(JSON.stringify({ tier: 'gold', seats: 45, support: 'phone', sso: true }, null, 2));
    await apiRequest(rig, rig.token('acme-admin'), 'PUT', '/v1/config/tenantconfig:plan', {
      value: { tier: 'platinum', seats: 60, support: 'phone', sso: true },
    });
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.locator('.conflict').waitFor();
    await admin.locator('.conflict').scrollIntoViewIfNeeded();
    await shoot(admin, 'edit-conflict');

    if (ROUTE_KEYS.some((k) => k.startsWith('POST /v1/rollouts'))) {
      const op = rig.token('operator-alice');
      const started = await apiRequest(rig, op, 'POST', '/v1/rollouts', {
        key: 'tenantconfig:limits',
        layer: 'platform',
        value: { seats: 8, projects: 5 },
        waves: [1, 10, 50, 100],
        bakeSeconds: 600,
      });
      await apiRequest(rig, op, 'POST', '/v1/rollouts', {
        key: 'flags:new-editor',
        layer: 'segment:plan=gold',
        value: { enabled: true },
        waves: [10, 100],
        bakeSeconds: 300,
      });
      await operator.goto(`${rig.consoleUrl}#/rollouts/${encodeURIComponent(String(started.body?.id))}`);
      await operator.getByRole('group', { name: 'Rollout actions' }).waitFor();
      await shoot(operator, 'rollouts');
    } else process.stderr.write('screenshots: the rollouts API is not routed yet; no rollouts.png\n');

    await operator.getByRole('link', { name: 'Live' }).click();
    await operator.locator('[data-status="live"]').waitFor();
    const acme = rig.token('acme-admin');
    await apiRequest(rig, acme, 'PUT', '/v1/config/tenantconfig:seats', { value: 30 });
    await apiRequest(rig, rig.token('globex-admin'), 'PUT', '/v1/config/tenantconfig:plan', { value: { tier: 'free', seats: 3 } });
    await apiRequest(rig, rig.token('operator-alice'), 'PUT', '/v1/defaults/tenantconfig:banner', { value: 'Maintenance on Sunday 02:00 UTC' });
    await operator.locator('.arrival[data-key="tenantconfig:banner"]').first().waitFor();
    await shoot(operator, 'live');

    const phone = (await signIn(rig, 'acme-admin', { width: 390, height: 844 })).page;
    await phone.locator('tr[data-key="tenantconfig:plan"]').waitFor();
    await shoot(phone, 'phone-keys');
  } finally {
    await rig.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`screenshots failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
