/**
 * The fanout's OTLP/HTTP export (FanoutTracing.otlp(), what main.ts builds for
 * FANOUT_TRACING=otlp): spans reach the endpoint of OTEL_EXPORTER_OTLP_ENDPOINT at /v1/traces,
 * and shutdown flushes what the batch processor still holds. In a child process (tsx), as the
 * fanout runs: the exporter loads `http` with a dynamic import, which jest's module system refuses.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = [
  "const { FanoutTracing } = require('./fanout/tracing');",
  '(async () => {',
  '  const tracing = FanoutTracing.otlp();',
  '  const setup = tracing.startWatch();',
  "  await setup.phase('authenticate', () => undefined);",
  '  setup.end();',
  "  process.stdout.write('spans made\\n');",
  '  await tracing.shutdown();',
  '})();',
].join('\n');

describe('OTLP export of the fanout spans', () => {
  let server: Server;
  const requests: Array<{ url?: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
  let endpoint: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the spans to <endpoint>/v1/traces when the fanout shuts down', async () => {
    // Act: spans made, then the process shuts its tracing down (as main.ts does after the drain).
    const run = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsx'), ['-e', SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'tenant-config-fanout' },
      timeout: 30_000,
    });
    // Assert
    expect(run.stdout).toBe('spans made\n');
    // One request for both spans: batched, not one per span.
    expect(requests.map((r) => r.url)).toEqual(['/v1/traces']);
    const body = requests[0].body.toString('latin1');
    expect(body).toContain('Watch setup');
    expect(body).toContain('authenticate');
    expect(body).toContain('tenant-config-fanout');
  });
});
