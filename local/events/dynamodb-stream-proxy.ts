import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordForChange, SequenceNumbers, type Image, type StreamRecord } from './stream-record';

/**
 * DynamoDB Streams for dynalite, which has none: an HTTP proxy that speaks the
 * DynamoDB JSON protocol in front of dynalite. Every request is forwarded unchanged
 * (the response too, byte for byte, so the SDK's CRC32 check holds); for a write to
 * the tenant table (PutItem, UpdateItem, DeleteItem, BatchWriteItem, and
 * TransactWriteItems should dynalite ever answer it) the proxy reads the touched items
 * before and after the write and reports a NEW_AND_OLD_IMAGES stream record for each
 * item that changed. Writes are serialised per item inside the proxy, so each
 * before/after pair is exact for every write that comes through it; the proxy is the
 * only DynamoDB endpoint the local system advertises, so that is every client's write
 * (the API's, the AWS CLI's, an SDK script's).
 */

export interface DynamoDbStreamProxyOptions {
  /** Where dynalite listens, e.g. `http://127.0.0.1:4567`. */
  readonly dynaliteEndpoint: string;
  /** The table whose writes produce records; other tables pass through silently. */
  readonly tableName: string;
  readonly region: string;
  /** Called once per changed item, in write order per item, before the client gets its answer. */
  readonly onRecord: (record: StreamRecord) => void;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** For the stream ARN. @default '000000000000' */
  readonly accountId?: string;
  /** Told about records that could not be built (dynalite failed between the write and the read after it). */
  readonly onError?: (error: Error) => void;
}

export interface DynamoDbStreamProxy {
  /** Give this to clients instead of dynalite's endpoint. */
  readonly endpoint: string;
  readonly port: number;
  /** `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`: what the Pipe reports as eventSourceARN. */
  readonly streamArn: string;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
/** The proxy's own reads need an Authorization header of the right form; dynalite checks no signature. */
const LOCAL_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'proxy-connection', 'upgrade']);

interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

type Key = Record<string, unknown>;

export async function startDynamoDbStreamProxy(options: DynamoDbStreamProxyOptions): Promise<DynamoDbStreamProxy> {
  const upstream = options.dynaliteEndpoint.replace(/\/+$/, '');
  const accountId = options.accountId ?? '000000000000';
  const streamLabel = new Date().toISOString().replace(/Z$/, '');
  const streamArn = `arn:aws:dynamodb:${options.region}:${accountId}:table/${options.tableName}/stream/${streamLabel}`;
  const sequence = new SequenceNumbers();
  const locks = new KeyLocks();
  let keyNames: Promise<string[]> | undefined;

  const forward = async (req: IncomingMessage, body: Buffer): Promise<WireResponse> => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const res = await fetch(`${upstream}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    });
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      // fetch hands over a decoded body, so an upstream content-encoding no longer applies.
      if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') out[name] = value;
    });
    return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
  };

  /** The proxy's own call to dynalite (GetItem, DescribeTable). */
  const call = async (operation: string, input: object): Promise<Record<string, unknown>> => {
    const res = await fetch(`${upstream}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${TARGET_PREFIX}${operation}`,
        'x-amz-date': '20200101T000000Z',
        authorization: LOCAL_AUTHORIZATION,
      },
      body: JSON.stringify(input),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw Object.assign(new Error(`${operation}: ${String(json.__type)}: ${String(json.message ?? json.Message)}`), { type: json.__type });
    return json;
  };

  const tableKeyNames = (): Promise<string[]> => {
    keyNames ??= call('DescribeTable', { TableName: options.tableName }).then(
      (out) => ((out.Table as { KeySchema: Array<{ AttributeName: string }> }).KeySchema ?? []).map((k) => k.AttributeName),
      (e: unknown) => {
        keyNames = undefined;
        throw e;
      },
    );
    return keyNames;
  };

  const readItem = async (key: Key): Promise<Image | undefined> => {
    const out = await call('GetItem', { TableName: options.tableName, Key: key, ConsistentRead: true });
    return out.Item as Image | undefined;
  };

  const handleWrite = async (req: IncomingMessage, body: Buffer, operation: string): Promise<WireResponse> => {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return forward(req, body); // dynalite answers malformed JSON with the service's error
    }
    let names: string[];
    try {
      names = await tableKeyNames();
    } catch {
      return forward(req, body); // no table yet: the write fails upstream with ResourceNotFoundException
    }
    const keys = touchedKeys(operation, input, options.tableName, names);
    if (keys.length === 0) return forward(req, body);
    const ids = [...new Set(keys.map((k) => canonicalKey(k, names)))].sort();
    const release = await locks.acquire(ids);
    try {
      const distinct = ids.map((id) => keys.find((k) => canonicalKey(k, names) === id) as Key);
      let before: Array<Image | undefined>;
      try {
        before = await Promise.all(distinct.map(readItem));
      } catch (e) {
        return internalError(`the stream proxy could not read the item before the write: ${(e as Error).message}`);
      }
      const response = await forward(req, body);
      if (response.status !== 200) return response;
      const after = await readAfter(distinct);
      if (!after) return response;
      const nowMs = Date.now();
      distinct.forEach((_key, i) => {
        const record = recordForChange({
          keyNames: names,
          before: before[i],
          after: after[i],
          region: options.region,
          sequenceNumber: () => sequence.take(),
          nowMs,
        });
        if (record) emit(record);
      });
      return response;
    } finally {
      release();
    }
  };

  /** The write happened: read what it left, retrying briefly; undefined (and reported) if dynalite stays unreadable. */
  const readAfter = async (keys: Key[]): Promise<Array<Image | undefined> | undefined> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Promise.all(keys.map(readItem));
      } catch (e) {
        if (attempt >= 3) {
          options.onError?.(new Error(`stream record lost: the item could not be read after a write: ${(e as Error).message}`));
          return undefined;
        }
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
  };

  const emit = (record: StreamRecord): void => {
    try {
      options.onRecord(record);
    } catch (e) {
      // The write already happened; a failing consumer must not fail the client's call.
      options.onError?.(new Error(`stream record consumer failed: ${(e as Error).message}`));
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      if ((operation === 'CreateTable' || operation === 'DeleteTable') && body.includes(options.tableName)) keyNames = undefined;
      const response = req.method === 'POST' && WRITE_OPERATIONS.has(operation) ? await handleWrite(req, body, operation) : await forward(req, body);
      res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
      res.end(response.body);
    } catch (e) {
      const failure = internalError(`the stream proxy could not reach dynalite: ${(e as Error).message}`);
      if (!res.headersSent) res.writeHead(failure.status, failure.headers);
      res.end(failure.body);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    endpoint: `http://${address}:${port}`,
    port,
    streamArn,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The keys of the tenant table an operation writes, in request order (duplicates kept). */
export function touchedKeys(operation: string, input: Record<string, unknown>, tableName: string, keyNames: readonly string[]): Key[] {
  const isOurs = (name: unknown) => typeof name === 'string' && (name === tableName || name.endsWith(`:table/${tableName}`));
  const keyFrom = (item: unknown): Key | undefined => {
    if (typeof item !== 'object' || item === null) return undefined;
    const key: Key = {};
    for (const n of keyNames) {
      const v = (item as Record<string, unknown>)[n];
      if (v === undefined) return undefined; // invalid request: dynalite rejects it, no record
      key[n] = v;
    }
    return key;
  };
  const out: Key[] = [];
  const add = (k: Key | undefined) => {
    if (k) out.push(k);
  };
  switch (operation) {
    case 'PutItem':
      if (isOurs(input.TableName)) add(keyFrom(input.Item));
      break;
    case 'UpdateItem':
    case 'DeleteItem':
      if (isOurs(input.TableName)) add(keyFrom(input.Key));
      break;
    case 'BatchWriteItem': {
      const items = input.RequestItems as Record<string, Array<Record<string, { Item?: unknown; Key?: unknown }>>> | undefined;
      for (const [table, requests] of Object.entries(items ?? {})) {
        if (!isOurs(table) || !Array.isArray(requests)) continue;
        for (const r of requests) add(keyFrom(r?.PutRequest?.Item ?? r?.DeleteRequest?.Key));
      }
      break;
    }
    case 'TransactWriteItems': {
      const items = input.TransactItems as Array<Record<string, { TableName?: unknown; Item?: unknown; Key?: unknown }>> | undefined;
      for (const t of items ?? []) {
        const write = t?.Put ?? t?.Update ?? t?.Delete;
        if (write && isOurs(write.TableName)) add(keyFrom(write.Item ?? write.Key));
      }
      break;
    }
    default:
      break;
  }
  return out;
}

function canonicalKey(key: Key, keyNames: readonly string[]): string {
  return JSON.stringify(keyNames.map((n) => key[n]));
}

/** Per-item mutual exclusion; several keys are taken in sorted order, so two batches never deadlock. */
class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async acquire(sortedIds: readonly string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const id of sortedIds) releases.push(await this.lock(id));
    return () => releases.forEach((r) => r());
  }

  private async lock(id: string): Promise<() => void> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.tails.set(id, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(id) === tail) this.tails.delete(id);
    };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A DynamoDB-style 500, which SDKs and the CLI retry. */
function internalError(message: string): WireResponse {
  const body = Buffer.from(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message }));
  return { status: 500, headers: { 'content-type': 'application/x-amz-json-1.0' }, body };
}
