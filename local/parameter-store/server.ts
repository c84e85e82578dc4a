import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenHttp } from '../listen';
import { StoreJournal } from './journal';
import { ParameterStore, type CallContext, type Mutation, type ParameterChange, type ParameterFilter } from './parameter-store';
import { RequestFields } from './request-fields';
import { SsmError } from './ssm-error';

export interface LocalParameterStoreOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Keep parameters in this JSON file (created when missing) and its journal `<dataFile>.journal`;
   * in memory only when absent. See journal.ts for how writes are made durable.
   */
  readonly dataFile?: string;
  /** Called once per successful write by any client, after the write is durable. */
  readonly onChange?: (change: ParameterChange) => void;
  /** The account id in ARNs and `LastModifiedUser`. @default '000000000000' */
  readonly accountId?: string;
}

export interface LocalParameterStore {
  /** e.g. `http://127.0.0.1:4583`: pass it as `endpoint` to SSMClient or `--endpoint-url` to the CLI. */
  readonly endpoint: string;
  readonly port: number;
  /** Another change listener (besides `onChange`); returns the unsubscribe function. */
  subscribe(listener: (change: ParameterChange) => void): () => void;
  /** Stops listening, drops open connections and waits for every acknowledged write to be on disk. */
  close(): Promise<void>;
}

type Operation = (store: ParameterStore, f: RequestFields, ctx: CallContext) => Mutation<Record<string, unknown>> | Record<string, unknown>;

const FILTER_SHAPE = { Key: 'string', Option: 'string', Values: 'strings' } as const;

/** The operations of the SSM JSON 1.1 protocol this store answers, by `x-amz-target` suffix. */
const OPERATIONS: Record<string, Operation> = {
  PutParameter: (s, f, ctx) =>
    s.put(
      {
        Name: f.string('Name'),
        Value: f.string('Value'),
        Type: f.string('Type'),
        Description: f.string('Description'),
        KeyId: f.string('KeyId'),
        Overwrite: f.boolean('Overwrite'),
        AllowedPattern: f.string('AllowedPattern'),
        Tags: f.structures<{ Key: string; Value: string }>('Tags', { Key: 'string', Value: 'string' }),
        Tier: f.string('Tier'),
        DataType: f.string('DataType'),
      },
      ctx,
    ),
  GetParameter: (s, f, ctx) => ({ Parameter: s.get(f.string('Name'), f.boolean('WithDecryption') === true, ctx) }),
  GetParameters: (s, f, ctx) => s.getMany(f.strings('Names'), f.boolean('WithDecryption') === true, ctx),
  GetParametersByPath: (s, f, ctx) =>
    s.getByPath(
      {
        Path: f.string('Path'),
        Recursive: f.boolean('Recursive'),
        WithDecryption: f.boolean('WithDecryption'),
        ParameterFilters: f.structures<ParameterFilter>('ParameterFilters', FILTER_SHAPE),
        MaxResults: f.integer('MaxResults'),
        NextToken: f.string('NextToken'),
      },
      ctx,
    ),
  DeleteParameter: (s, f) => s.delete(f.string('Name')),
  DeleteParameters: (s, f) => s.deleteMany(f.strings('Names')),
  GetParameterHistory: (s, f) =>
    s.history({
      Name: f.string('Name'),
      WithDecryption: f.boolean('WithDecryption'),
      MaxResults: f.integer('MaxResults'),
      NextToken: f.string('NextToken'),
    }),
  DescribeParameters: (s, f, ctx) =>
    s.describe(
      {
        Filters: f.structures<ParameterFilter>('Filters', { Key: 'string', Values: 'strings' }),
        ParameterFilters: f.structures<ParameterFilter>('ParameterFilters', FILTER_SHAPE),
        MaxResults: f.integer('MaxResults'),
        NextToken: f.string('NextToken'),
      },
      ctx,
    ),
};

const TARGET_PREFIX = 'AmazonSSM.';
const MAX_BODY_BYTES = 1024 * 1024;

function isMutation(result: Mutation<Record<string, unknown>> | Record<string, unknown>): result is Mutation<Record<string, unknown>> {
  return Array.isArray((result as Mutation<unknown>).changes) && 'output' in result;
}

/** Region and access key from a SigV4 `Authorization` header (signatures are not checked: any credentials work locally). */
function callContext(req: IncomingMessage, accountId: string): CallContext {
  const credential = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//.exec(req.headers.authorization ?? '');
  const region = credential?.[2] ?? 'us-east-1';
  const user = credential ? `arn:aws:iam::${accountId}:user/${credential[1]}` : `arn:aws:iam::${accountId}:user/anonymous`;
  return { region, user };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SsmError('SerializationException', `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

/**
 * A local SSM Parameter Store endpoint speaking the AWS JSON 1.1 protocol
 * (`POST /`, `x-amz-target: AmazonSSM.<Operation>`), so `@aws-sdk/client-ssm`,
 * Powertools Parameters and the `aws` CLI work against it via their endpoint setting.
 * Every successful Put/Delete, by any client, is reported to the change listeners.
 */
export async function startLocalParameterStore(opts: LocalParameterStoreOptions = {}): Promise<LocalParameterStore> {
  const accountId = opts.accountId ?? '000000000000';
  const opened = opts.dataFile ? await StoreJournal.open(opts.dataFile, accountId) : undefined;
  const store = opened?.store ?? new ParameterStore(accountId);
  const journal = opened?.journal;
  const listeners = new Set<(change: ParameterChange) => void>();
  if (opts.onChange) listeners.add(opts.onChange);

  const notify = (changes: readonly ParameterChange[]) => {
    for (const change of changes) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (e) {
          // A failing listener must not fail the write that already happened.
          process.emitWarning(`local Parameter Store change listener failed: ${(e as Error).message}`);
        }
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? OPERATIONS[target.slice(TARGET_PREFIX.length)] : undefined;
      if (req.method !== 'POST' || !operation) {
        throw new SsmError('UnknownOperationException', `Operation ${target || '(none)'} is not supported by the local Parameter Store.`);
      }
      const fields = RequestFields.parse(await readBody(req));
      const result = operation(store, fields, callContext(req, accountId));
      if (isMutation(result)) {
        if (result.records.length > 0 && journal) await journal.append(result.records);
        send(res, 200, result.output);
        notify(result.changes);
      } else {
        send(res, 200, result);
      }
    } catch (e) {
      if (e instanceof SsmError) {
        send(res, e.status, { __type: e.type, message: e.message }, e.type);
      } else {
        process.stderr.write(`local Parameter Store: internal error: ${(e as Error).stack ?? String(e)}\n`);
        send(res, 500, { __type: 'InternalServerError', message: 'An internal error occurred in the local Parameter Store.' }, 'InternalServerError');
      }
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  // Clients keep connections alive; a short timeout lets close() finish promptly either way.
  server.keepAliveTimeout = 5000;
  const { endpoint, port } = await listenHttp(server, opts.port, opts.host);

  return {
    endpoint,
    port,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await journal?.close();
    },
  };
}
