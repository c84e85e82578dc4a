/**
 * `npm run -s token -- --tenant acme [--admin]`, `--service billing [--scope tenant-config/read-secrets]`
 * or `--operator alice` prints a dev access token, and nothing else, on stdout, so
 * `$(npm run -s token -- ...)` works. Usage errors go to stderr with exit code 2.
 */
import { parseArgs } from 'node:util';
import { InvalidTenantError } from '../core/errors';
import { SCOPES } from '../core/principal';
import { DEFAULT_TOKEN_TTL_SECONDS, openDevSigner } from './dev-signer';
import { localDirFromEnv } from './local-dir';

const USAGE = `usage: npm run -s token -- --tenant <id> [--admin] [--subject <sub>] [--ttl <seconds>]
       npm run -s token -- --service <client id> [--scope <scope>]... [--ttl <seconds>]
       npm run -s token -- --operator <name> [--ttl <seconds>]

  --tenant    a person of one tenant (the tenant_id claim): 1-64 of [A-Za-z0-9_-], starting with a letter or digit
  --admin     put the user in the config-admins group (may write its tenant, read its secrets)
  --subject   the token's sub (default dev-<tenant>-admin or dev-<tenant>-reader)
  --service   a consuming service's client-credentials token: reads any tenant, never writes
  --scope     a scope of the service token (repeatable); ${SCOPES.read} is always included,
              add ${SCOPES.readSecrets} to read secret tags
  --operator  a platform operator (the platform-operators group): reads and writes any tenant
  --ttl       lifetime in seconds, 1-86400 (default ${DEFAULT_TOKEN_TTL_SECONDS})

The key lives in $LOCAL_DIR/signer (LOCAL_DIR defaults to .local), shared with npm start.`;

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

interface Values {
  tenant?: string;
  admin?: boolean;
  subject?: string;
  service?: string;
  scope?: string[];
  operator?: string;
  ttl?: string;
  help?: boolean;
}

function main(argv: readonly string[]): void {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        tenant: { type: 'string' },
        admin: { type: 'boolean' },
        subject: { type: 'string' },
        service: { type: 'string' },
        scope: { type: 'string', multiple: true },
        operator: { type: 'string' },
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
  const kinds = (['tenant', 'service', 'operator'] as const).filter((k) => values[k] !== undefined);
  if (kinds.length !== 1) fail('give exactly one of --tenant, --service or --operator');
  if (kinds[0] !== 'tenant' && (values.admin || values.subject !== undefined)) fail('--admin and --subject go with --tenant');
  if (kinds[0] !== 'service' && values.scope !== undefined) fail('--scope goes with --service');
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    if (!/^\d+$/.test(values.ttl)) fail(`--ttl must be a whole number of seconds, got '${values.ttl}'`);
    ttlSeconds = Number(values.ttl);
  }
  const signer = openDevSigner(localDirFromEnv());
  let token: string;
  try {
    if (values.service !== undefined) {
      token = signer.signServiceToken({ service: values.service, scopes: [...new Set([SCOPES.read, ...(values.scope ?? [])])], ttlSeconds });
    } else if (values.operator !== undefined) {
      token = signer.signOperatorToken({ operator: values.operator, ttlSeconds });
    } else {
      token = signer.signToken({ tenant: values.tenant!, admin: values.admin ?? false, subject: values.subject, ttlSeconds });
    }
  } catch (e) {
    fail(e instanceof InvalidTenantError ? `--tenant '${values.tenant}': ${e.message}` : (e as Error).message);
  }
  process.stdout.write(`${token}\n`);
}

main(process.argv.slice(2));
