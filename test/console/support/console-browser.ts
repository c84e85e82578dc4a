/**
 * The browser tests' rig: one local system (free ports, temp dir) and one headless Debian
 * Chromium driven by playwright-core, shared by a file's tests. `.ci/run` installs chromium when
 * it is missing; where it still is, the suites say so and skip.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalSystem, type LocalSystem } from '../../../local/system';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CONSOLE_DIST = join(__dirname, '..', '..', '..', 'console', 'dist');

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserTestsUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM_PATH)) return `${CHROMIUM_PATH} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (!existsSync(join(CONSOLE_DIST, 'index.html'))) return 'console/dist is not built (npm run build; jest global setup builds it)';
  return undefined;
}

/** `describe`, or a loud skip naming what is missing. */
export function describeWithBrowser(name: string, body: () => void): void {
  const missing = browserTestsUnavailable();
  if (missing) {
    process.stderr.write(`\n*** SKIPPED "${name}": ${missing}\n`);
    describe.skip(`${name} (skipped: ${missing})`, body);
  } else describe(name, body);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface ConsoleRig {
  readonly system: LocalSystem;
  readonly browser: Browser;
  /** `http://127.0.0.1:<port>/console/` */
  readonly consoleUrl: string;
  readonly http: string;
  /** A token of a demo identity, for writes made "by someone else" in between. */
  token(identity: 'acme-reader' | 'acme-admin' | 'globex-admin' | 'operator-alice'): string;
  stop(): Promise<void>;
}

export async function startConsoleRig(): Promise<ConsoleRig> {
  const dir = mkdtempSync(join(tmpdir(), 'console-e2e-'));
  const system = await startLocalSystem({ dir, port: 0, grpcPort: 0, cache: 'memory' });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await system.stop();
    throw e;
  }
  const signer = system.signer;
  return {
    system,
    browser,
    http: system.endpoints.http,
    consoleUrl: `${system.endpoints.http}/console/`,
    token(identity) {
      if (identity === 'operator-alice') return signer.signOperatorToken({ operator: 'alice' });
      const [tenant, role] = identity.split('-');
      return signer.signToken({ tenant, admin: role === 'admin' });
    },
    async stop() {
      await browser?.close();
      await system.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh page (its own sessionStorage) signed in as a demo identity through the dev login. */
export async function signIn(rig: ConsoleRig, identity: string, viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await rig.browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(rig.consoleUrl);
  await page.locator(`button[data-identity="${identity}"]`).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { context, page };
}

/** A write through the HTTP API, as curl would make it. */
export async function apiRequest(rig: ConsoleRig, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${rig.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined, etag: res.headers.get('etag') };
}
