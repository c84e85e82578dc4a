/**
 * The admin console in headless Chromium against the whole local system: sign-in as each demo
 * identity, what each may do, schema-checked edits, a concurrent edit shown as a conflict,
 * history diff and restore, rollouts, the live view, keyboard navigation and a phone width.
 * One system and one browser for the file; each test opens its own context (its own session).
 */
import type { Page, Request } from 'playwright-core';
import { ROUTE_KEYS } from '../../lambda/config-api/routes';
import { apiRequest, describeWithBrowser, signIn, startConsoleRig, type ConsoleRig } from './support/console-browser';

const ROLLOUTS_ROUTED = ROUTE_KEYS.some((k) => k.startsWith('POST /v1/rollouts'));
if (!ROLLOUTS_ROUTED)
  process.stderr.write('\n*** console e2e: the rollouts API is not routed yet (lambda/config-api/routes.ts): its browser test is skipped\n');

const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link');

describeWithBrowser('admin console in Chromium (local system)', () => {
  let rig: ConsoleRig;
  const contexts: Array<{ close(): Promise<void> }> = [];
  const open = async (identity: string, viewport?: { width: number; height: number }) => {
    const session = await signIn(rig, identity, viewport);
    contexts.push(session.context);
    return session.page;
  };

  beforeAll(async () => {
    rig = await startConsoleRig();
    const operator = rig.token('operator-alice');
    const admin = rig.token('acme-admin');
    await apiRequest(rig, operator, 'PUT', '/v1/tenants/acme', { attributes: { plan: 'gold', region: 'eu' } });
    await apiRequest(rig, operator, 'PUT', '/v1/tenants/globex', { attributes: { plan: 'free' } });
    await apiRequest(rig, operator, 'PUT', '/v1/defaults/tenantconfig:limits', { value: { seats: 5 } });
    await apiRequest(rig, operator, 'PUT', '/v1/segments/plan=gold/tenantconfig:limits', { value: { seats: 50 } });
    await apiRequest(rig, admin, 'PUT', '/v1/config/tenantconfig:plan', { value: { tier: 'silver', seats: 10 } });
    await apiRequest(rig, admin, 'PUT', '/v1/config/flags:beta', { value: true });
  }, 60_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it.each([
    ['acme-reader', 'tenant reader', ['Keys', 'Defaults & segments', 'Live']],
    ['acme-admin', 'tenant admin', ['Keys', 'Defaults & segments', 'Live']],
    ['globex-admin', 'tenant admin', ['Keys', 'Defaults & segments', 'Live']],
    ['operator-alice', 'platform operator', ['Tenants', 'Defaults & segments', 'Rollouts', 'Live']],
  ])('signs in as %s (%s) and offers its views only', async (identity, role, nav) => {
    const page = await open(identity);
    await expect(page.locator('.who-role').textContent()).resolves.toBe(role);
    expect(await mainNav(page).allTextContents()).toEqual(nav);
  });

  it("shows a tenant's keys with their effective values and source layers", async () => {
    const page = await open('acme-admin');
    const limits = page.locator('tr[data-key="tenantconfig:limits"]');
    await limits.waitFor();
    await expect(limits.locator('.badge').textContent()).resolves.toBe('segment:plan=gold');
    await expect(limits.locator('code.value').textContent()).resolves.toBe('{"seats":50}');
    await expect(page.locator('tr[data-key="tenantconfig:plan"] .badge').textContent()).resolves.toBe('tenant');
  });

  it('lists, searches and opens tenants for an operator', async () => {
    const page = await open('operator-alice');
    await page.getByRole('link', { name: 'globex' }).waitFor();
    await page.getByLabel('Search tenants').fill('plan=gold');
    await expect(page.getByRole('link', { name: 'globex' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'acme' }).click();
    await page.locator('tr[data-key="tenantconfig:plan"]').waitFor();
    expect(page.url()).toContain('#/config/acme');
  });

  it('offers a reader no edit, create or restore control', async () => {
    const page = await open('acme-reader');
    await page.locator('tr[data-key="tenantconfig:plan"]').waitFor();
    await expect(page.getByRole('heading', { name: 'New key' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'tenantconfig:plan' }).click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await page.locator('tr[data-version="1"]').waitFor();
    expect(await page.getByRole('heading', { name: 'Edit' }).count()).toBe(0);
    expect(await page.locator('textarea').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Restore/ }).count()).toBe(0);
  });

  it('refuses a value failing the tag schema without sending it, then saves a valid one', async () => {
    const page = await open('acme-admin');
    const writes: Request[] = [];
    page.on('request', (r) => r.method() === 'PUT' && writes.push(r));
    await page.goto(`${rig.consoleUrl}#/config/acme/key/flags:beta`);
    const editor = page.getByLabel('Value (JSON)');
    await editor.fill('{"enabled": "yes"}');
    await expect(page.getByRole('list', { name: 'Problems with this value' }).textContent()).resolves.toContain('/enabled must be boolean');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Not sent' }).textContent()).resolves.toContain('must be boolean');
    expect(writes).toHaveLength(0);

    await editor.fill('{"enabled": true, "rolloutPercent": 20}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved as version 2.').waitFor();
    expect(writes).toHaveLength(1);
    expect(writes[0].headers()['if-match']).toBe('"1"');
    const stored = await apiRequest(rig, rig.token('acme-admin'), 'GET', '/v1/config/flags:beta');
    expect(stored.body.value).toEqual({ enabled: true, rolloutPercent: 20 });
  });

  it('shows a concurrent change as a conflict with the current value, and does not overwrite it', async () => {
    const page = await open('acme-admin');
    await page.goto(`${rig.consoleUrl}#/config/acme/key/tenantconfig:plan`);
    await page.getByText('Saves over version 1 only if it is still the current one.').waitFor();
    await page.getByLabel('Value (JSON)').fill('{"tier": "gold", "seats": 20}');
    // Someone else writes in between, as curl would.
    const theirs = await apiRequest(rig, rig.token('acme-admin'), 'PUT', '/v1/config/tenantconfig:plan', { value: { tier: 'platinum', seats: 99 } });
    expect(theirs.status).toBe(200);
    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.locator('.conflict');
    await conflict.waitFor();
    await expect(conflict.textContent()).resolves.toContain('It is now version 2');
    await expect(conflict.locator('table.diff').textContent()).resolves.toContain('"platinum"');
    const stored = await apiRequest(rig, rig.token('acme-admin'), 'GET', '/v1/config/tenantconfig:plan');
    expect(stored.body).toMatchObject({ version: 2, value: { tier: 'platinum', seats: 99 } });
  });

  it('compares two versions side by side and restores one', async () => {
    const page = await open('acme-admin');
    await page.goto(`${rig.consoleUrl}#/config/acme/key/tenantconfig:plan`);
    await page.locator('tr[data-version="2"]').waitFor();
    await page.getByRole('radio', { name: 'version 1 left' }).check();
    await page.getByRole('radio', { name: 'version 2 right' }).check();
    const diff = page.locator('.card table.diff');
    await expect(diff.locator('caption').textContent()).resolves.toMatch(/version 1 compared with version 2: 2 lines differ/);
    await expect(diff.locator('tr[data-diff="changed"]').first().textContent()).resolves.toMatch(/silver.*platinum/);
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByText('Version 1 restored as version 3.').waitFor();
    const stored = await apiRequest(rig, rig.token('acme-admin'), 'GET', '/v1/config/tenantconfig:plan');
    expect(stored.body).toMatchObject({ version: 3, value: { tier: 'silver', seats: 10 } });
    await page.locator('tr[data-version="3"]').waitFor();
  });

  it('shows a problem detail from the API as it says it', async () => {
    const page = await open('acme-reader');
    await page.goto(`${rig.consoleUrl}#/config/globex`);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^Forbidden: .+/);
  });

  (ROLLOUTS_ROUTED ? it : it.skip)('starts a rollout, pauses, resumes and rolls it back', async () => {
    const page = await open('operator-alice');
    await page.getByRole('link', { name: 'Rollouts' }).click();
    await page.getByLabel('Key').fill('tenantconfig:limits');
    await page.getByLabel('New value (JSON)').fill('{"seats": 9}');
    await page.getByLabel('Bake time per wave (s)').fill('600');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.getByRole('heading', { name: /^Rollout / }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge', { hasText: 'paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('.badge', { hasText: 'in progress' }).waitFor();
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.locator('.badge', { hasText: 'rolled back' }).waitFor();
    expect(await page.getByRole('group', { name: 'Rollout actions' }).getByRole('button').count()).toBe(0);
  });

  it('receives a change written over HTTP in the live view', async () => {
    const page = await open('acme-admin');
    await page.getByRole('link', { name: 'Live' }).click();
    await page.locator('[data-status="live"]').waitFor({ timeout: 15_000 });
    await apiRequest(rig, rig.token('acme-admin'), 'PUT', '/v1/config/tenantconfig:live', { value: { n: 42 } });
    const arrival = page.locator('.arrival[data-key="tenantconfig:live"]');
    await arrival.waitFor({ timeout: 10_000 });
    await expect(arrival.textContent()).resolves.toContain('{"n":42}');
  });

  it('runs under its Content-Security-Policy without a violation or a script error', async () => {
    const page = await open('operator-alice');
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    for (const view of ['#/tenants', '#/config/acme', '#/config/acme/key/tenantconfig:plan', '#/layers/plan=gold', '#/rollouts', '#/live']) {
      await page.goto(`${rig.consoleUrl}${view}`);
      await page.locator('h2.view-heading').waitFor();
    }
    expect(problems).toEqual([]);
  });

  it('moves through the main navigation with the keyboard', async () => {
    const page = await open('operator-alice');
    await page.getByRole('link', { name: 'Tenants' }).focus();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => (globalThis as any).document.activeElement?.textContent)).resolves.toBe('Defaults & segments');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.tagName === 'H2');
    expect(page.url()).toContain('#/layers');
    await expect(page.getByRole('link', { name: 'Defaults & segments' }).getAttribute('aria-current')).resolves.toBe('page');
    await page.keyboard.press('Shift+Tab');
    // Back from the heading lands in the nav again.
    await expect(page.evaluate(() => (globalThis as any).document.activeElement?.closest('nav')?.getAttribute('aria-label'))).resolves.toBe('Main');
  });

  it('fits a 390 px phone screen without sideways scrolling', async () => {
    const page = await open('operator-alice', { width: 390, height: 844 });
    await page.getByRole('link', { name: 'acme' }).waitFor();
    const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(mainNav(page).first().isVisible()).resolves.toBe(true);
  });
});
