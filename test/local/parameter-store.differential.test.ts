/**
 * The local Parameter Store and moto_server (an independent emulator) get the same SSM
 * calls, in the same order, and must give the same answers: values, versions, types,
 * descriptions, history, listings (in order), and errors (name, message, HTTP status).
 *
 * Normalised, because they must differ: ARNs (account ids differ; moto also leaves the ARN
 * out of DescribeParameters, AWS includes it), dates (checked to be recent instants),
 * LastModifiedUser (moto says "N/A", AWS and we give the caller), SecureString ciphertext
 * (KMS output on AWS, "kms:<key>:<text>" on moto, a local blob here: checked not to be the
 * plain text), `Selector` (AWS echoes `:<version>`, moto leaves it out), and page
 * boundaries (pages are compared as the concatenation of all pages, because moto returns a
 * NextToken to an empty page when the last page is exactly full).
 *
 * Where moto is the odd one out against AWS's documentation (it validates no parameter
 * names and no value sizes), the last block checks the local store against the
 * documentation alone and says so.
 */
import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
  type ParameterStringFilter,
} from '@aws-sdk/client-ssm';
import { startLocalParameterStore, type LocalParameterStore } from '../../local/parameter-store';
import { describeIf, localClientConfig, startMoto, type RunningServer } from '../support/servers';

const SECRET = 'pa55word-plain';
const testStart = Date.now();

type Outcome = { ok: unknown } | { error: string; message: string; status?: number };

/** Replaces what must differ between implementations, after checking it is well-formed. */
function normalise(value: unknown): unknown {
  if (value instanceof Date) {
    expect(value.getTime()).toBeGreaterThanOrEqual(testStart - 60_000);
    expect(value.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    return '<date>';
  }
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined || k === '$metadata' || k === 'NextToken' || k === 'Selector') continue;
      if (k === 'ARN') {
        expect(v).toMatch(new RegExp(`^arn:aws:ssm:us-east-1:\\d{12}:parameter/${String(obj.Name).replace(/^\//, '')}$`));
        continue;
      }
      if (k === 'LastModifiedUser') {
        expect(typeof v).toBe('string');
        continue;
      }
      if (k === 'Value' && obj.Type === 'SecureString' && v !== SECRET) {
        expect(String(v)).not.toBe(SECRET);
        out[k] = '<ciphertext>';
        continue;
      }
      out[k] = normalise(v);
    }
    return out;
  }
  return value;
}

async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: normalise(await call()) };
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    if (!err.$metadata) throw e;
    return { error: err.name, message: err.message, status: err.$metadata.httpStatusCode };
  }
}

/** Every page of a paginated call's `Parameters`, concatenated; checks each page respects MaxResults. */
async function allPages(
  fetchPage: (token?: string) => Promise<{ NextToken?: string; Parameters?: readonly unknown[] }>,
  maxResults: number,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await fetchPage(token);
    const got = page.Parameters ?? [];
    expect(got.length).toBeLessThanOrEqual(maxResults);
    items.push(...got);
    token = page.NextToken;
    if (!token) return items;
  }
  throw new Error('pagination did not end');
}

const put = (Name: string, Value: string, extra: Partial<ConstructorParameters<typeof PutParameterCommand>[0]> = {}) =>
  new PutParameterCommand({ Name, Value, Type: 'String', ...extra });

/** The scenario: each step is one observable answer, run against both servers in this order. */
const steps: ReadonlyArray<[string, (ssm: SSMClient) => Promise<unknown>]> = [
  ['get a parameter that does not exist', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a' }))],
  ['create with a description', (s) => s.send(put('/diff/app/a', 'one', { Description: 'first' }))],
  ['create again without Overwrite', (s) => s.send(put('/diff/app/a', 'again'))],
  ['overwrite leaving out Type and Description', (s) => s.send(new PutParameterCommand({ Name: '/diff/app/a', Value: 'two', Overwrite: true }))],
  ['overwrite with a new description', (s) => s.send(put('/diff/app/a', 'three', { Overwrite: true, Description: 'third' }))],
  ['get the newest version', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a' }))],
  ['get version 1 by selector', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a:1' }))],
  ['get a version that does not exist', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a:9' }))],
  ['get by a label nobody set', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a:nolabel' }))],
  ['get with two selectors', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a:1:2' }))],
  ['history, one page', (s) => s.send(new GetParameterHistoryCommand({ Name: '/diff/app/a' }))],
  ['history, pages of 2', (s) => allPages((NextToken) => s.send(new GetParameterHistoryCommand({ Name: '/diff/app/a', MaxResults: 2, NextToken })), 2)],
  ['history with MaxResults 51', (s) => s.send(new GetParameterHistoryCommand({ Name: '/diff/app/a', MaxResults: 51 }))],
  ['history of a missing parameter', (s) => s.send(new GetParameterHistoryCommand({ Name: '/diff/app/none' }))],
  ['put an empty value', (s) => s.send(put('/diff/app/empty', ''))],
  ['create without a Type', (s) => s.send(new PutParameterCommand({ Name: '/diff/app/untyped', Value: 'x' }))],
  ['create with an unknown Type', (s) => s.send(put('/diff/app/bogus', 'x', { Type: 'Bogus' as 'String' }))],
  [
    'create a tree out of name order',
    async (s) => {
      const versions: number[] = [];
      for (const n of ['/diff/tree/c', '/diff/tree/a', '/diff/tree/b/x', '/diff/tree/b/y', '/diff/tree/b', '/diff/treex/a']) {
        versions.push((await s.send(put(n, `value of ${n}`))).Version!);
      }
      return versions;
    },
  ],
  ['by path, one level', (s) => allPages((NextToken) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree', NextToken })), 10)],
  [
    'by path, recursive, pages of 2',
    (s) => allPages((NextToken) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree', Recursive: true, MaxResults: 2, NextToken })), 2),
  ],
  [
    'by path with a trailing slash, pages of 1',
    (s) => allPages((NextToken) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree/', MaxResults: 1, NextToken })), 1),
  ],
  ['by path of a subtree', (s) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree/b', Recursive: true }))],
  ['by path that matches nothing', (s) => s.send(new GetParametersByPathCommand({ Path: '/diff/nothing', Recursive: true }))],
  ['by path with MaxResults 11', (s) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree', MaxResults: 11 }))],
  [
    'delete and re-create: the parameter moves to the end of the listing and starts at version 1',
    async (s) => {
      await s.send(new DeleteParameterCommand({ Name: '/diff/tree/c' }));
      const reborn = await s.send(put('/diff/tree/c', 'reborn'));
      const listed = await allPages((NextToken) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree', NextToken })), 10);
      return { version: reborn.Version, listed };
    },
  ],
  [
    'GetParameters with found, missing and selected names',
    async (s) => {
      const out = await s.send(new GetParametersCommand({ Names: ['/diff/app/a', '/diff/none', '/diff/app/a:2', '/diff/app/a:7', '/diff/tree/a'] }));
      // Neither promises an order here (moto answers in set order).
      return {
        Parameters: [...(out.Parameters ?? [])].sort((x, y) => `${x.Name}:${x.Version}`.localeCompare(`${y.Name}:${y.Version}`)),
        InvalidParameters: [...(out.InvalidParameters ?? [])].sort(),
      };
    },
  ],
  ['GetParameters with 11 names', (s) => s.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/diff/n${i}`) }))],
  ['create a SecureString', (s) => s.send(put('/diff/secret/pw', SECRET, { Type: 'SecureString' }))],
  ['get the SecureString without decryption', (s) => s.send(new GetParameterCommand({ Name: '/diff/secret/pw' }))],
  ['get the SecureString with decryption', (s) => s.send(new GetParameterCommand({ Name: '/diff/secret/pw', WithDecryption: true }))],
  ['create a SecureString under a named key', (s) => s.send(put('/diff/secret/keyed', SECRET, { Type: 'SecureString', KeyId: 'alias/tenant-config' }))],
  ['overwrite it without naming the key', (s) => s.send(new PutParameterCommand({ Name: '/diff/secret/keyed', Value: SECRET, Overwrite: true }))],
  ['SecureString history with decryption', (s) => s.send(new GetParameterHistoryCommand({ Name: '/diff/secret/keyed', WithDecryption: true }))],
  ['SecureStrings by path without decryption', (s) => s.send(new GetParametersByPathCommand({ Path: '/diff/secret' }))],
  ['create a StringList', (s) => s.send(put('/diff/list', 'a,b,c', { Type: 'StringList' }))],
  ['get the StringList', (s) => s.send(new GetParameterCommand({ Name: '/diff/list' }))],
  [
    'describe by Name Equals, several names',
    (s) => {
      const filters: ParameterStringFilter[] = [{ Key: 'Name', Option: 'Equals', Values: ['/diff/app/a', '/diff/secret/keyed', '/diff/none'] }];
      return allPages((NextToken) => s.send(new DescribeParametersCommand({ ParameterFilters: filters, NextToken })), 50);
    },
  ],
  [
    'describe by Path, recursive',
    (s) => {
      const filters: ParameterStringFilter[] = [{ Key: 'Path', Option: 'Recursive', Values: ['/diff/tree'] }];
      return allPages((NextToken) => s.send(new DescribeParametersCommand({ ParameterFilters: filters, NextToken })), 50);
    },
  ],
  [
    'describe by Path, one level',
    (s) => {
      const filters: ParameterStringFilter[] = [{ Key: 'Path', Option: 'OneLevel', Values: ['/diff/tree'] }];
      return allPages((NextToken) => s.send(new DescribeParametersCommand({ ParameterFilters: filters, NextToken })), 50);
    },
  ],
  [
    'describe with both Filters and ParameterFilters',
    (s) =>
      s.send(new DescribeParametersCommand({ Filters: [{ Key: 'Name', Values: ['/diff'] }], ParameterFilters: [{ Key: 'Name', Values: ['/diff/app/a'] }] })),
  ],
  ['delete a parameter that does not exist', (s) => s.send(new DeleteParameterCommand({ Name: '/diff/none' }))],
  ['delete a parameter', (s) => s.send(new DeleteParameterCommand({ Name: '/diff/app/a' }))],
  ['get the deleted parameter', (s) => s.send(new GetParameterCommand({ Name: '/diff/app/a' }))],
  ['history of the deleted parameter', (s) => s.send(new GetParameterHistoryCommand({ Name: '/diff/app/a' }))],
  ['re-create the deleted parameter', (s) => s.send(put('/diff/app/a', 'new life'))],
  ['DeleteParameters, found and missing', (s) => s.send(new DeleteParametersCommand({ Names: ['/diff/tree/a', '/diff/none', '/diff/tree/b/x'] }))],
  ['by path after DeleteParameters', (s) => s.send(new GetParametersByPathCommand({ Path: '/diff/tree', Recursive: true }))],
  [
    '102 versions: the oldest two are gone',
    async (s) => {
      for (let v = 1; v <= 102; v++) await s.send(put('/diff/many', `v${v}`, { Overwrite: true }));
      const history = await allPages((NextToken) => s.send(new GetParameterHistoryCommand({ Name: '/diff/many', MaxResults: 50, NextToken })), 50);
      return { count: history.length, versions: history.map((h) => (h as { Version: number }).Version) };
    },
  ],
  ['get version 2 of it (trimmed away)', (s) => s.send(new GetParameterCommand({ Name: '/diff/many:2' }))],
  ['get version 3 of it', (s) => s.send(new GetParameterCommand({ Name: '/diff/many:3' }))],
];

describeIf('moto_server')('local Parameter Store answers as moto_server does', () => {
  let moto: RunningServer;
  let local: LocalParameterStore;
  let motoSsm: SSMClient;
  let localSsm: SSMClient;

  beforeAll(async () => {
    [moto, local] = await Promise.all([startMoto(), startLocalParameterStore()]);
    motoSsm = new SSMClient(localClientConfig(moto.endpoint));
    localSsm = new SSMClient(localClientConfig(local.endpoint));
  }, 30_000);
  afterAll(async () => {
    motoSsm?.destroy();
    localSsm?.destroy();
    await Promise.all([moto?.stop(), local?.close()]);
  });

  it.each(steps)('%s', async (_label, call) => {
    const fromMoto = await outcome(() => call(motoSsm));
    const fromLocal = await outcome(() => call(localSsm));

    expect(fromLocal).toEqual(fromMoto);
  });
});

/**
 * moto 5 (checked: 5.2.1) accepts every name below and any value size; AWS documents
 * (PutParameter, "Naming Constraints"; HierarchyLevelLimitExceededException; the
 * 4 KB standard-tier limit) that it refuses them. Here moto is the odd one out, so the
 * local store is checked against the documentation.
 */
describe('local Parameter Store where moto departs from the AWS documentation', () => {
  let local: LocalParameterStore;
  let ssm: SSMClient;
  beforeAll(async () => {
    local = await startLocalParameterStore();
    ssm = new SSMClient(localClientConfig(local.endpoint));
  });
  afterAll(async () => {
    ssm.destroy();
    await local.close();
  });

  it.each([
    ['a path not starting with /', 'a/b', 'ValidationException'],
    ['a space', '/a b', 'ValidationException'],
    ['an empty level', '/a//b', 'ValidationException'],
    ['a non-ASCII letter', '/a/ünï', 'ValidationException'],
    ['16 levels', `/${Array.from({ length: 16 }, (_, i) => i).join('/')}`, 'HierarchyLevelLimitExceededException'],
  ])('refuses a name with %s', async (_why, name, type) => {
    const outcomeOf = await outcome(() => ssm.send(put(name, 'v')));

    expect(outcomeOf).toMatchObject({ error: type, status: 400 });
  });

  it('refuses a standard-tier value over 4096 characters and takes it in the advanced tier', async () => {
    const standard = await outcome(() => ssm.send(put('/doc/big', 'x'.repeat(4097))));
    const advanced = await outcome(() => ssm.send(put('/doc/big', 'x'.repeat(4097), { Tier: 'Advanced' })));

    expect(standard).toMatchObject({ error: 'ValidationException', status: 400 });
    expect(advanced).toEqual({ ok: { Version: 1, Tier: 'Advanced' } });
  });

  it('echoes the selector of a versioned read, as AWS does (moto leaves Selector out)', async () => {
    await ssm.send(put('/doc/sel', 'one'));

    const out = await ssm.send(new GetParameterCommand({ Name: '/doc/sel:1' }));

    expect(out.Parameter).toMatchObject({ Name: '/doc/sel', Selector: ':1', Version: 1 });
  });
});
