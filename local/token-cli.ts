/**
 * `npm run -s token -- --tenant acme [--admin] [--subject x] [--ttl 3600]`
 * prints a dev access token, and nothing else, on stdout, so `$(npm run -s token -- ...)` works.
 * Usage errors go to stderr with exit code 2.
 */
import { parseArgs } from 'node:util';
import { InvalidTenantError } from '../core/errors';
import { DEFAULT_TOKEN_TTL_SECONDS, openDevSigner } from './dev-signer';
import { localDirFromEnv } from './local-dir';

const USAGE = `usage: npm run -s token -- --tenant <id> [--admin] [--subject <sub>] [--ttl <seconds>]

  --tenant   tenant id for the tenant_id claim: 1-64 of [A-Za-z0-9_-], starting with a letter or digit
  --admin    put the user in the config-admins group (may write and delete)
  --subject  the token's sub (default dev-<tenant>-admin or dev-<tenant>-reader)
  --ttl      lifetime in seconds, 1-86400 (default ${DEFAULT_TOKEN_TTL_SECONDS})

The key lives in $LOCAL_DIR/signer (LOCAL_DIR defaults to .local), shared with npm start.`;

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function main(argv: readonly string[]): void {
  let values: { tenant?: string; admin?: boolean; subject?: string; ttl?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        tenant: { type: 'string' },
        admin: { type: 'boolean' },
        subject: { type: 'string' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.tenant === undefined) fail('--tenant is required');
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    if (!/^\d+$/.test(values.ttl)) fail(`--ttl must be a whole number of seconds, got '${values.ttl}'`);
    ttlSeconds = Number(values.ttl);
  }
  let token: string;
  try {
    token = openDevSigner(localDirFromEnv()).signToken({
      tenant: values.tenant,
      admin: values.admin ?? false,
      subject: values.subject,
      ttlSeconds,
    });
  } catch (e) {
    fail(e instanceof InvalidTenantError ? `--tenant '${values.tenant}': ${e.message}` : (e as Error).message);
  }
  process.stdout.write(`${token}\n`);
}

main(process.argv.slice(2));
