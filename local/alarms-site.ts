/**
 * `PUT /local/alarms/{name}` body `{"state": "ALARM" | "OK"}` and `GET /local/alarms/{name}`:
 * the local stand-in for a CloudWatch alarm (docs/design.md §8.3), served by the local front
 * only, outside the API and its authorizer, like the JWKS (no such route exists on AWS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../core/errors';
import { readBody, type LocalSite } from './http-front';
import type { LocalAlarms } from './local-alarms';

const PREFIX = '/local/alarms/';
const MAX_BODY_BYTES = 1024;

export function alarmsSite(alarms: LocalAlarms): LocalSite {
  return (req, res, path) => {
    if (!path.startsWith(PREFIX)) return false;
    const name = path.slice(PREFIX.length);
    if (req.method === 'GET') {
      void alarms.statesOf([name]).then((states) => send(res, 200, { name, state: states.get(name) }));
      return true;
    }
    if (req.method !== 'PUT') {
      res.setHeader('allow', 'GET, PUT');
      send(res, 405, {
        title: 'Method Not Allowed',
        status: 405,
        detail: `${String(req.method).slice(0, 16)} is not allowed on ${PREFIX}{name}; allowed: GET, PUT`,
      });
      return true;
    }
    void readJson(req).then(
      (body) => {
        try {
          send(res, 200, { name, state: alarms.set(name, body) });
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          send(res, 400, { title: 'Bad Request', status: 400, detail: error.message });
        }
      },
      (error: Error) => send(res, 400, { title: 'Bad Request', status: 400, detail: error.message }),
    );
    return true;
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === 'too-large') throw new Error(`body over ${MAX_BODY_BYTES} bytes: expected {"state": "ALARM" | "OK"}`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('body is not JSON: expected {"state": "ALARM" | "OK"}');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
