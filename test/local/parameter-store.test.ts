import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  type Parameter,
} from '@aws-sdk/client-ssm';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { startLocalParameterStore, type LocalParameterStore, type ParameterChange } from '../../local/parameter-store';
import { localClientConfig } from '../support/servers';

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!outcome) throw new Error('expected the call to fail, but it succeeded');
  return outcome;
}

describe('local Parameter Store (SSM JSON 1.1 protocol)', () => {
  let server: LocalParameterStore;
  let ssm: SSMClient;
  const changes: ParameterChange[] = [];

  beforeAll(async () => {
    server = await startLocalParameterStore({ onChange: (c) => changes.push(c) });
    ssm = new SSMClient(localClientConfig(server.endpoint));
  });
  afterAll(async () => {
    ssm.destroy();
    await server.close();
  });

  describe('PutParameter and GetParameter', () => {
    it('numbers versions from 1 and returns the newest value; a version selector returns an older one', async () => {
      const first = await ssm.send(new PutParameterCommand({ Name: '/pg/a', Value: 'one', Type: 'String' }));
      const second = await ssm.send(new PutParameterCommand({ Name: '/pg/a', Value: 'two', Overwrite: true }));

      const current = await ssm.send(new GetParameterCommand({ Name: '/pg/a' }));
      const old = await ssm.send(new GetParameterCommand({ Name: '/pg/a:1' }));

      expect([first.Version, second.Version, first.Tier]).toEqual([1, 2, 'Standard']);
      expect(current.Parameter).toMatchObject({ Name: '/pg/a', Value: 'two', Version: 2, Type: 'String', DataType: 'text' });
      expect(current.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
      expect(current.Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:000000000000:parameter/pg/a');
      expect(old.Parameter).toMatchObject({ Name: '/pg/a', Value: 'one', Version: 1, Selector: ':1' });
    });

    it('refuses to overwrite without Overwrite: ParameterAlreadyExists, HTTP 400, nothing written', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/pg/exists', Value: 'v', Type: 'String' }));

      const error = await rejection(ssm.send(new PutParameterCommand({ Name: '/pg/exists', Value: 'w', Type: 'String' })));

      expect(error.name).toBe('ParameterAlreadyExists');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect((await ssm.send(new GetParameterCommand({ Name: '/pg/exists' }))).Parameter).toMatchObject({ Value: 'v', Version: 1 });
    });

    it.each([
      ['/pg/missing', 'ParameterNotFound'],
      ['/pg/a:99', 'ParameterVersionNotFound'],
      ['/pg/a:somelabel', 'ParameterNotFound'],
      ['/pg/a:1:2', 'ParameterNotFound'],
    ])('GetParameter %p fails with %s', async (name, type) => {
      const error = await rejection(ssm.send(new GetParameterCommand({ Name: name })));

      expect(error.name).toBe(type);
    });

    it.each([
      ['a path not starting with /', 'a/b', 'ValidationException'],
      ['a space inside', '/a b', 'ValidationException'],
      ['an empty level', '/a//b', 'ValidationException'],
      ['a trailing slash', '/a/', 'ValidationException'],
      ['a non-ASCII letter', '/a/ü', 'ValidationException'],
      ['a colon (selector syntax)', '/a:b', 'ValidationException'],
      ['the reserved /aws path', '/aws/x', 'AccessDeniedException'],
      ['the reserved ssm prefix', 'ssm-thing', 'ValidationException'],
      ['16 levels', `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, 'HierarchyLevelLimitExceededException'],
      ['1012 characters', `/${'x'.repeat(1011)}`, 'ValidationException'],
    ])('refuses a name with %s, and stores nothing', async (_why, name, type) => {
      const error = await rejection(ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String' })));

      expect(error.name).toBe(type);
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect((await rejection(ssm.send(new GetParameterCommand({ Name: name.trim() })))).name).toBe('ParameterNotFound');
    });

    it('accepts 15 levels, a flat name, and trims surrounding spaces', async () => {
      const deep = `/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`;

      await ssm.send(new PutParameterCommand({ Name: deep, Value: 'deep', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '  flat-name.v1_x  ', Value: 'flat', Type: 'String' }));

      expect((await ssm.send(new GetParameterCommand({ Name: deep }))).Parameter?.Value).toBe('deep');
      expect((await ssm.send(new GetParameterCommand({ Name: 'flat-name.v1_x' }))).Parameter?.Value).toBe('flat');
    });

    it.each([
      [{ Name: '/pg/v', Value: '', Type: 'String' as const }, 'ValidationException'],
      [{ Name: '/pg/v', Value: 'x' }, 'ValidationException'],
      [{ Name: '/pg/v', Value: 'x'.repeat(4097), Type: 'String' as const }, 'ValidationException'],
      [{ Name: '/pg/v', Value: 'abc', Type: 'String' as const, AllowedPattern: '^[0-9]+$' }, 'ParameterPatternMismatchException'],
    ])('refuses a bad value or type %#', async (input, type) => {
      const error = await rejection(ssm.send(new PutParameterCommand(input)));

      expect(error.name).toBe(type);
    });

    it('keeps Description and AllowedPattern across an overwrite that leaves them out, as AWS does', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/pg/desc', Value: '1', Type: 'String', Description: 'kept', AllowedPattern: '^[0-9]+$' }));
      await ssm.send(new PutParameterCommand({ Name: '/pg/desc', Value: '2', Overwrite: true }));

      const error = await rejection(ssm.send(new PutParameterCommand({ Name: '/pg/desc', Value: 'x', Overwrite: true })));
      const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: ['/pg/desc'] }] }));

      expect(error.name).toBe('ParameterPatternMismatchException');
      expect(described.Parameters).toHaveLength(1);
      expect(described.Parameters?.[0]).toMatchObject({ Description: 'kept', AllowedPattern: '^[0-9]+$', Version: 2 });
    });
  });

  describe('SecureString', () => {
    it('returns ciphertext without WithDecryption and the plain text with it; reports the KMS key', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/sec/one', Value: 's3cr3t', Type: 'SecureString', KeyId: 'alias/tenant-config' }));

      const hidden = await ssm.send(new GetParameterCommand({ Name: '/sec/one' }));
      const shown = await ssm.send(new GetParameterCommand({ Name: '/sec/one', WithDecryption: true }));
      const meta = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/sec/one'] }] }));

      expect(hidden.Parameter?.Value).not.toContain('s3cr3t');
      expect(hidden.Parameter?.Value).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(shown.Parameter?.Value).toBe('s3cr3t');
      expect(meta.Parameters?.[0]).toMatchObject({ Type: 'SecureString', KeyId: 'alias/tenant-config' });
    });

    it('uses alias/aws/ssm when no key is named', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/sec/default', Value: 'x', Type: 'SecureString' }));

      const meta = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/sec/default'] }] }));

      expect(meta.Parameters?.[0].KeyId).toBe('alias/aws/ssm');
    });
  });

  describe('GetParameters', () => {
    it('returns the found ones and lists the rest as InvalidParameters', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/gp/a', Value: 'a1', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/gp/a', Value: 'a2', Type: 'String', Overwrite: true }));

      const out = await ssm.send(new GetParametersCommand({ Names: ['/gp/a', '/gp/none', '/gp/a:1', '/gp/a:9'] }));

      expect(out.Parameters?.map((p) => [p.Name, p.Value, p.Version])).toEqual([
        ['/gp/a', 'a2', 2],
        ['/gp/a', 'a1', 1],
      ]);
      expect(out.InvalidParameters).toEqual(['/gp/none', '/gp/a:9']);
    });

    it('refuses more than 10 names', async () => {
      const error = await rejection(ssm.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/gp/${i}`) })));

      expect(error.name).toBe('ValidationException');
    });
  });

  describe('GetParametersByPath', () => {
    beforeAll(async () => {
      for (const n of ['/bp/c', '/bp/a', '/bp/b/x', '/bp/b/y', '/bp/b', '/bpx/a']) {
        await ssm.send(new PutParameterCommand({ Name: n, Value: n, Type: 'String' }));
      }
    });

    async function all(input: { Path: string; Recursive?: boolean; MaxResults?: number }): Promise<string[]> {
      const names: string[] = [];
      let NextToken: string | undefined;
      do {
        const out = await ssm.send(new GetParametersByPathCommand({ ...input, NextToken }));
        expect((out.Parameters ?? []).length).toBeLessThanOrEqual(input.MaxResults ?? 10);
        names.push(...(out.Parameters ?? []).map((p: Parameter) => p.Name!));
        NextToken = out.NextToken;
      } while (NextToken);
      return names;
    }

    it('returns one level, or every level with Recursive, in creation order, never a sibling path', async () => {
      expect(await all({ Path: '/bp' })).toEqual(['/bp/c', '/bp/a', '/bp/b']);
      expect(await all({ Path: '/bp/', Recursive: true })).toEqual(['/bp/c', '/bp/a', '/bp/b/x', '/bp/b/y', '/bp/b']);
    });

    it('pages with NextToken and MaxResults, each item once', async () => {
      expect(await all({ Path: '/bp', Recursive: true, MaxResults: 2 })).toEqual(['/bp/c', '/bp/a', '/bp/b/x', '/bp/b/y', '/bp/b']);
    });

    it('moves a re-created parameter to the end, as creation order demands', async () => {
      await ssm.send(new DeleteParameterCommand({ Name: '/bp/c' }));
      await ssm.send(new PutParameterCommand({ Name: '/bp/c', Value: 'again', Type: 'String' }));

      expect(await all({ Path: '/bp', MaxResults: 1 })).toEqual(['/bp/a', '/bp/b', '/bp/c']);
    });

    it.each([
      [{ Path: '/bp', MaxResults: 11 }, 'ValidationException'],
      [{ Path: 'bp' }, 'ValidationException'],
      [{ Path: '/bp', NextToken: 'forged' }, 'InvalidNextToken'],
      [{ Path: '/bp', ParameterFilters: [{ Key: 'Name', Values: ['/x'] }] }, 'InvalidFilterKey'],
    ])('refuses %p with %s', async (input, type) => {
      const error = await rejection(ssm.send(new GetParametersByPathCommand(input)));

      expect(error.name).toBe(type);
    });

    it('filters by Type', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/bp/list', Value: 'a,b', Type: 'StringList' }));

      const out = await ssm.send(new GetParametersByPathCommand({ Path: '/bp', ParameterFilters: [{ Key: 'Type', Values: ['StringList'] }] }));

      expect(out.Parameters?.map((p) => p.Name)).toEqual(['/bp/list']);
    });
  });

  describe('DeleteParameter(s)', () => {
    it('deletes, then reports ParameterNotFound; a re-created parameter starts again at version 1', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/del/a', Value: '1', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/del/a', Value: '2', Type: 'String', Overwrite: true }));

      await ssm.send(new DeleteParameterCommand({ Name: '/del/a' }));
      const again = await rejection(ssm.send(new DeleteParameterCommand({ Name: '/del/a' })));
      const history = await rejection(ssm.send(new GetParameterHistoryCommand({ Name: '/del/a' })));
      const reborn = await ssm.send(new PutParameterCommand({ Name: '/del/a', Value: '3', Type: 'String' }));

      expect(again.name).toBe('ParameterNotFound');
      expect(history.name).toBe('ParameterNotFound');
      expect(reborn.Version).toBe(1);
    });

    it('DeleteParameters reports deleted and invalid names', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/del/b', Value: 'b', Type: 'String' }));

      const out = await ssm.send(new DeleteParametersCommand({ Names: ['/del/b', '/del/none'] }));

      expect(out.DeletedParameters).toEqual(['/del/b']);
      expect(out.InvalidParameters).toEqual(['/del/none']);
    });
  });

  describe('GetParameterHistory', () => {
    it('lists versions oldest first with their descriptions and pages with NextToken', async () => {
      for (let v = 1; v <= 5; v++) {
        await ssm.send(new PutParameterCommand({ Name: '/hist/a', Value: `v${v}`, Type: 'String', Overwrite: v > 1, Description: `d${v}` }));
      }

      const pages: string[][] = [];
      let NextToken: string | undefined;
      do {
        const out = await ssm.send(new GetParameterHistoryCommand({ Name: '/hist/a', MaxResults: 2, NextToken }));
        pages.push((out.Parameters ?? []).map((p) => `${p.Version}:${p.Value}:${p.Description}`));
        NextToken = out.NextToken;
      } while (NextToken);

      expect(pages).toEqual([['1:v1:d1', '2:v2:d2'], ['3:v3:d3', '4:v4:d4'], ['5:v5:d5']]);
    });

    it('keeps the newest 100 versions, as AWS does', async () => {
      for (let v = 1; v <= 102; v++) {
        await ssm.send(new PutParameterCommand({ Name: '/hist/many', Value: `v${v}`, Type: 'String', Overwrite: true }));
      }

      const first = await ssm.send(new GetParameterHistoryCommand({ Name: '/hist/many', MaxResults: 50 }));
      const second = await ssm.send(new GetParameterHistoryCommand({ Name: '/hist/many', MaxResults: 50, NextToken: first.NextToken }));
      const gone = await rejection(ssm.send(new GetParameterCommand({ Name: '/hist/many:2' })));

      expect(first.Parameters?.[0].Version).toBe(3);
      expect(second.Parameters?.at(-1)?.Version).toBe(102);
      expect(second.NextToken).toBeUndefined();
      expect(gone.name).toBe('ParameterVersionNotFound');
    });

    it('refuses MaxResults over 50', async () => {
      const error = await rejection(ssm.send(new GetParameterHistoryCommand({ Name: '/hist/a', MaxResults: 51 })));

      expect(error.name).toBe('ValidationException');
    });
  });

  describe('DescribeParameters', () => {
    it('filters by Path (Recursive, OneLevel) and by several Name values, with paging', async () => {
      for (const n of ['/dp/a', '/dp/b/c', '/dp/b/d', '/dpx']) await ssm.send(new PutParameterCommand({ Name: n, Value: 'v', Type: 'String' }));

      const names = async (filters: { Key: string; Option?: string; Values: string[] }[]) => {
        const found: string[] = [];
        let NextToken: string | undefined;
        do {
          const out = await ssm.send(new DescribeParametersCommand({ ParameterFilters: filters, MaxResults: 1, NextToken }));
          found.push(...(out.Parameters ?? []).map((p) => p.Name!));
          NextToken = out.NextToken;
        } while (NextToken);
        return found;
      };

      expect(await names([{ Key: 'Path', Option: 'Recursive', Values: ['/dp'] }])).toEqual(['/dp/a', '/dp/b/c', '/dp/b/d']);
      expect(await names([{ Key: 'Path', Values: ['/dp'] }])).toEqual(['/dp/a']);
      expect(await names([{ Key: 'Name', Option: 'Equals', Values: ['/dp/b/d', '/dp/a', '/nope'] }])).toEqual(['/dp/a', '/dp/b/d']);
      expect(await names([{ Key: 'Name', Option: 'BeginsWith', Values: ['/dp/b'] }])).toEqual(['/dp/b/c', '/dp/b/d']);
    });

    it('records the caller as LastModifiedUser', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/dp/who', Value: 'v', Type: 'String' }));

      const out = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/dp/who'] }] }));

      expect(out.Parameters?.[0].LastModifiedUser).toBe('arn:aws:iam::000000000000:user/local');
    });
  });

  describe('wire protocol', () => {
    const post = (target: string | undefined, body: string) =>
      fetch(`${server.endpoint}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', ...(target ? { 'x-amz-target': target } : {}) },
        body,
      });

    it('answers errors as AWS does: 400, x-amzn-ErrorType and {__type, message}', async () => {
      const res = await post('AmazonSSM.GetParameter', JSON.stringify({ Name: '/wire/none' }));

      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('ParameterNotFound');
      expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
      expect(await res.json()).toEqual({ __type: 'ParameterNotFound', message: 'Parameter /wire/none not found.' });
    });

    it.each([
      ['AmazonSSM.GetParameter', '{not json', 'SerializationException'],
      ['AmazonSSM.GetParameter', JSON.stringify({ Name: 42 }), 'SerializationException'],
      ['AmazonSSM.GetParameter', JSON.stringify({}), 'ValidationException'],
      ['AmazonSSM.SendCommand', '{}', 'UnknownOperationException'],
      [undefined, '{}', 'UnknownOperationException'],
    ])('answers target %p body %p with 400 %s, never 500', async (target, body, type) => {
      const res = await post(target, body);

      expect(res.status).toBe(400);
      expect(((await res.json()) as { __type: string }).__type).toBe(type);
    });
  });

  describe('change notifications', () => {
    it('reports Create, Update and Delete for every successful write, and nothing for a failed one', async () => {
      changes.length = 0;
      const seen: ParameterChange[] = [];
      const unsubscribe = server.subscribe((c) => seen.push(c));

      await ssm.send(new PutParameterCommand({ Name: '/ev/a', Value: '1', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/ev/a', Value: '2', Type: 'String', Overwrite: true }));
      await rejection(ssm.send(new PutParameterCommand({ Name: '/ev/a', Value: '3', Type: 'String' })));
      await ssm.send(new PutParameterCommand({ Name: '/ev/b', Value: 's', Type: 'SecureString' }));
      await ssm.send(new DeleteParameterCommand({ Name: '/ev/a' }));
      await ssm.send(new DeleteParametersCommand({ Names: ['/ev/b', '/ev/none'] }));
      unsubscribe();

      const summary = changes.map((c) => [c.operation, c.name, c.version, c.type]);
      expect(summary).toEqual([
        ['Create', '/ev/a', 1, 'String'],
        ['Update', '/ev/a', 2, 'String'],
        ['Create', '/ev/b', 1, 'SecureString'],
        ['Delete', '/ev/a', 2, 'String'],
        ['Delete', '/ev/b', 1, 'SecureString'],
      ]);
      expect(seen.map((c) => [c.operation, c.name])).toEqual(summary.map(([op, name]) => [op, name]));
      for (const c of changes) expect(c.time).toBeInstanceOf(Date);
    });
  });

  describe('Powertools Parameters', () => {
    it('reads a parameter, a path and a decrypted SecureString through SSMProvider', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/pt/app/a', Value: '{"n":1}', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/pt/app/b', Value: 'plain', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/pt/app/secret', Value: 'pw', Type: 'SecureString' }));
      const provider = new SSMProvider({ clientConfig: localClientConfig(server.endpoint) });

      const one = await provider.get('/pt/app/a', { transform: 'json' });
      const many = await provider.getMultiple('/pt/app', { decrypt: true });
      const secret = await provider.get('/pt/app/secret', { decrypt: true });
      const byName = await provider.getParametersByName({ '/pt/app/a': {}, '/pt/app/b': {} });

      expect(one).toEqual({ n: 1 });
      expect(many).toEqual({ a: '{"n":1}', b: 'plain', secret: 'pw' });
      expect(secret).toBe('pw');
      expect(byName).toMatchObject({ '/pt/app/a': '{"n":1}', '/pt/app/b': 'plain' });
    });
  });
});

describe('local Parameter Store with a data file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-ps-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps parameters, versions, history and creation order across a restart, and leaves no temp file', async () => {
    const dataFile = join(dir, 'nested', 'parameters.json');
    const first = await startLocalParameterStore({ dataFile });
    const ssm1 = new SSMClient(localClientConfig(first.endpoint));
    await Promise.all(Array.from({ length: 20 }, (_, i) => ssm1.send(new PutParameterCommand({ Name: `/keep/p${i}`, Value: `${i}`, Type: 'String' }))));
    await ssm1.send(new PutParameterCommand({ Name: '/keep/p3', Value: 'three', Type: 'String', Overwrite: true, Description: 'd' }));
    await ssm1.send(new PutParameterCommand({ Name: '/keep/secret', Value: 'pw', Type: 'SecureString' }));
    const before = await ssm1.send(new GetParametersByPathCommand({ Path: '/keep', MaxResults: 10 }));
    ssm1.destroy();
    await first.close();

    const second = await startLocalParameterStore({ dataFile });
    const ssm2 = new SSMClient(localClientConfig(second.endpoint));
    try {
      const history = await ssm2.send(new GetParameterHistoryCommand({ Name: '/keep/p3' }));
      const secret = await ssm2.send(new GetParameterCommand({ Name: '/keep/secret', WithDecryption: true }));
      const after = await ssm2.send(new GetParametersByPathCommand({ Path: '/keep', MaxResults: 10 }));
      const next = await ssm2.send(new PutParameterCommand({ Name: '/keep/p3', Value: 'four', Type: 'String', Overwrite: true }));

      expect(history.Parameters?.map((p) => [p.Version, p.Value, p.Description])).toEqual([
        [1, '3', undefined],
        [2, 'three', 'd'],
      ]);
      expect(secret.Parameter?.Value).toBe('pw');
      expect(after.Parameters?.map((p) => p.Name)).toEqual(before.Parameters?.map((p) => p.Name));
      expect(next.Version).toBe(3);
      expect(readdirSync(join(dir, 'nested')).sort()).toEqual(['parameters.json', 'parameters.json.journal']);
    } finally {
      ssm2.destroy();
      await second.close();
    }
  });

  it('refuses to start over a corrupt data file, naming it', async () => {
    const dataFile = join(dir, 'corrupt.json');
    writeFileSync(dataFile, '{"format":');

    await expect(startLocalParameterStore({ dataFile })).rejects.toThrow(dataFile);
    expect(existsSync(dataFile)).toBe(true);
  });
});
