import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLocalParameterStore, type LocalParameterStore, type ParameterChange } from '../../local/parameter-store';
import { describeIf } from '../support/servers';

const run = promisify(execFile);

describeIf('aws')('local Parameter Store through the aws CLI (botocore)', () => {
  let server: LocalParameterStore;
  const changes: ParameterChange[] = [];
  // Async exec: the server runs in this process, so a blocking spawnSync would starve it.
  const aws = async (...args: string[]) => {
    const { stdout } = await run('aws', ['--endpoint-url', server.endpoint, '--output', 'json', 'ssm', ...args], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'cli-user',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_DEFAULT_REGION: 'eu-central-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_PAGER: '',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    return JSON.parse(stdout) as { Version?: number; Parameter?: Record<string, unknown> };
  };

  beforeAll(async () => {
    server = await startLocalParameterStore({ onChange: (c) => changes.push(c) });
  });
  afterAll(async () => {
    await server.close();
  });

  it('puts, overwrites and gets a parameter, reports errors by AWS name, and the write is announced', async () => {
    const created = await aws('put-parameter', '--name', '/cli/db/url', '--value', 'postgres://a', '--type', 'String');
    const updated = await aws('put-parameter', '--name', '/cli/db/url', '--value', 'postgres://b', '--overwrite');
    const read = await aws('get-parameter', '--name', '/cli/db/url');
    const refused = await aws('put-parameter', '--name', '/cli/db/url', '--value', 'x', '--type', 'String').then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );

    expect([created.Version, updated.Version]).toEqual([1, 2]);
    expect(read.Parameter).toMatchObject({
      Name: '/cli/db/url',
      Value: 'postgres://b',
      Version: 2,
      ARN: 'arn:aws:ssm:eu-central-1:000000000000:parameter/cli/db/url',
    });
    expect(typeof read.Parameter?.LastModifiedDate).toBe('number');
    expect(refused).toContain('(ParameterAlreadyExists) when calling the PutParameter operation');
    expect(changes.map((c) => [c.operation, c.name, c.version])).toEqual([
      ['Create', '/cli/db/url', 1],
      ['Update', '/cli/db/url', 2],
    ]);
  });
});
