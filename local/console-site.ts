/**
 * The admin console under `npm start`: its built files at `/console/` (with the security headers
 * CloudFront sends on AWS, and index.html for any path that is not a file, as CloudFront's error
 * responses do), a `config.json` for the local dev login, and the demo identities at
 * `/local/console/identities` — like every `/local/...` endpoint, the local front only: on AWS
 * people sign in through Cognito.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import consoleHeaders from '../registry/console-headers.json';
import type { DevSigner } from './dev-signer';
import type { LocalSite } from './http-front';

export const CONSOLE_PATH = '/console/';
export const IDENTITIES_PATH = '/local/console/identities';
/** Demo tokens last a working day, like the banner's. */
const IDENTITY_TTL_SECONDS = 12 * 3600;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The headers of every console response; HSTS is left to HTTPS (CloudFront), browsers ignore it over http. */
export function consoleSecurityHeaders(): Record<string, string> {
  const csp = Object.entries(consoleHeaders.contentSecurityPolicy)
    .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
    .join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': consoleHeaders.contentTypeOptions,
    'x-frame-options': consoleHeaders.frameOptions,
    'referrer-policy': consoleHeaders.referrerPolicy,
  };
}

export interface DemoIdentity {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly token: string;
}

/** The identities the dev login offers, with fresh tokens from the dev signer. */
export function demoIdentities(signer: DevSigner): DemoIdentity[] {
  const ttlSeconds = IDENTITY_TTL_SECONDS;
  return [
    {
      id: 'acme-reader',
      label: 'acme reader',
      description: 'tenant reader: reads acme’s keys (not secrets)',
      token: signer.signToken({ tenant: 'acme', ttlSeconds }),
    },
    {
      id: 'acme-admin',
      label: 'acme admin',
      description: 'tenant admin: reads and writes acme',
      token: signer.signToken({ tenant: 'acme', admin: true, ttlSeconds }),
    },
    {
      id: 'globex-admin',
      label: 'globex admin',
      description: 'tenant admin of another tenant',
      token: signer.signToken({ tenant: 'globex', admin: true, ttlSeconds }),
    },
    {
      id: 'operator-alice',
      label: 'operator alice',
      description: 'platform operator: every tenant, the registry, defaults, rollouts',
      token: signer.signOperatorToken({ operator: 'alice', ttlSeconds }),
    },
  ];
}

export function consoleSite(options: { readonly distDir: string; readonly signer: DevSigner }): LocalSite {
  const root = normalize(options.distDir);
  const security = consoleSecurityHeaders();
  const config = JSON.stringify({ apiUrl: '', auth: { kind: 'local', identitiesUrl: IDENTITIES_PATH } });

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, cache = 'no-cache') => {
    res.writeHead(status, { ...security, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': cache });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return (req, res, path) => {
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (path === IDENTITIES_PATH && readOnly) {
      send(req, res, 200, 'application/json', JSON.stringify({ identities: demoIdentities(options.signer) }), 'no-store');
      return true;
    }
    if (path === '/console') {
      if (!readOnly) return false;
      res.writeHead(302, { location: CONSOLE_PATH });
      res.end();
      return true;
    }
    if (!path.startsWith(CONSOLE_PATH)) return false;
    if (!readOnly) {
      res.writeHead(405, { ...security, allow: 'GET, HEAD' });
      res.end();
      return true;
    }
    const rest = path.slice(CONSOLE_PATH.length);
    if (rest === 'config.json') {
      send(req, res, 200, 'application/json', config, 'no-store');
      return true;
    }
    const file = normalize(join(root, rest));
    if (file !== root && !file.startsWith(root + sep)) {
      send(req, res, 404, 'text/plain; charset=utf-8', 'Not Found');
      return true;
    }
    if (rest !== '' && existsSync(file) && statSync(file).isFile()) {
      // Hashed asset names change with their content: they may be kept for a year.
      const immutable = rest.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      send(req, res, 200, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file), immutable);
      return true;
    }
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      send(req, res, 503, 'text/plain; charset=utf-8', 'The console is not built: run `npm run build` (vite build console), then reload.\n', 'no-store');
      return true;
    }
    // A missing asset is a 404; any other path is a view of the single-page app.
    if (rest.startsWith('assets/')) send(req, res, 404, 'text/plain; charset=utf-8', 'Not Found');
    else send(req, res, 200, CONTENT_TYPES['.html'], readFileSync(index));
    return true;
  };
}
