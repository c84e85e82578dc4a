/**
 * The Redis connection as ElastiCache needs it: settings from the environment, AUTH with the
 * password read once through Powertools Parameters (SecureString or a Secrets Manager
 * reference, served by moto), TLS with a private CA, and failing fast when the cache is down.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import fc from 'fast-check';
import { RedisConnector, reconnectDelay, waitUntilReady, type RedisClient } from '../../../adapters/redis/redis-connection';
import { redisConfigFromEnv } from '../../../adapters/redis/redis-environment';
import { describeIf, freePort, localClientConfig, startMoto, type RunningServer } from '../../support/servers';
import { startRedisProcess, type RedisProcess } from '../../support/redis/redis-process';
import { redisTestConfig } from '../../support/redis/redis-subject';

describe('reconnectDelay', () => {
  it('grows, stays positive and never exceeds its cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 50, max: 30_000 }), (times, cap) => {
        const d = reconnectDelay(times, cap);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(cap);
      }),
    );
    expect(reconnectDelay(20, 2000)).toBeGreaterThanOrEqual(1000);
  });
});

describeIf('redis-server')('RedisConnector against redis-server', () => {
  const clients: RedisClient[] = [];
  const servers: RedisProcess[] = [];
  const track = (c: RedisClient) => (clients.push(c), c);
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  it('fails a command at once when nothing listens, instead of queueing it', async () => {
    const port = await freePort();
    const client = track((await RedisConnector.create(redisTestConfig(port))).connect());
    const started = Date.now();
    await expect(client.get('k')).rejects.toThrow(/writeable|closed|ECONNREFUSED/i);
    // A queued command would wait for the 2 s command timeout; failing well before it is "at once".
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('authenticates with a password given directly, and fails without it', async () => {
    const server = await startRedisProcess({ args: ['--requirepass', 'direct-secret'] });
    servers.push(server);
    const good = track((await RedisConnector.create(redisTestConfig(server.port, { password: 'direct-secret' }))).connect());
    await waitUntilReady(good, 3000);
    expect(await good.ping()).toBe('PONG');
    const bad = track((await RedisConnector.create(redisTestConfig(server.port))).connect());
    await expect(waitUntilReady(bad, 500)).rejects.toThrow(/not ready/);
    await expect(bad.ping()).rejects.toThrow();
  });

  it('reads the password parameter once, however many connections it opens', async () => {
    const server = await startRedisProcess({ args: ['--requirepass', 'read-once'] });
    servers.push(server);
    const names: string[] = [];
    const connector = await RedisConnector.create(redisTestConfig(server.port, { passwordParameter: '/stage/cache/auth' }), {
      readParameter: async (name) => {
        names.push(name);
        return 'read-once';
      },
    });
    const connections = [connector.connect(), connector.connect('blocking'), connector.connect()].map(track);
    await Promise.all(connections.map((c) => waitUntilReady(c, 3000)));
    expect(await Promise.all(connections.map((c) => c.ping()))).toEqual(['PONG', 'PONG', 'PONG']);
    expect(names).toEqual(['/stage/cache/auth']);
  });

  describeIf('openssl')('with TLS', () => {
    it('speaks TLS to a server whose certificate a private CA signed, and refuses an unknown CA', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
      try {
        const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
        const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
        ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
        ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
        writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
        ssl(
          'x509',
          '-req',
          '-in',
          'server.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          'server.crt',
          '-days',
          '1',
          '-extfile',
          'san.ext',
        );
        const server = await startRedisProcess({
          tlsPort: true,
          args: [
            '--tls-cert-file',
            join(dir, 'server.crt'),
            '--tls-key-file',
            join(dir, 'server.key'),
            '--tls-ca-cert-file',
            join(dir, 'ca.crt'),
            '--tls-auth-clients',
            'no',
          ],
        });
        servers.push(server);
        const config = redisConfigFromEnv({ CACHE_REDIS_URL: `rediss://127.0.0.1:${server.port}`, CACHE_REDIS_TLS_CA_FILE: join(dir, 'ca.crt') })!;
        const client = track((await RedisConnector.create(config)).connect());
        await waitUntilReady(client, 3000);
        expect(await client.ping()).toBe('PONG');
        const untrusting = track((await RedisConnector.create({ ...config, tlsCa: undefined })).connect());
        await expect(waitUntilReady(untrusting, 700)).rejects.toThrow(/not ready/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describeIf('redis-server')('RedisConnector with the AUTH secret in Parameter Store', () => {
  describeIf('moto_server')('reads it once through Powertools Parameters (moto)', () => {
    let moto: RunningServer;
    let redis: RedisProcess;
    const clients: RedisClient[] = [];
    const previousEndpoint = process.env.AWS_ENDPOINT_URL_SSM;

    beforeAll(async () => {
      moto = await startMoto();
      // Powertools builds its own SSM client: point it at moto the way Lambda config would.
      process.env.AWS_ENDPOINT_URL_SSM = moto.endpoint;
      redis = await startRedisProcess({ args: ['--requirepass', 'from-ssm-secret'] });
      const ssm = new SSMClient(localClientConfig(moto.endpoint));
      await ssm.send(new PutParameterCommand({ Name: '/test/cache/auth', Type: 'SecureString', Value: 'from-ssm-secret' }));
      ssm.destroy();
    }, 30_000);

    afterAll(async () => {
      for (const c of clients) c.disconnect();
      if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
      else process.env.AWS_ENDPOINT_URL_SSM = previousEndpoint;
      await redis?.kill();
      await moto?.stop();
    });

    it('takes the password from a SecureString parameter', async () => {
      const connector = await RedisConnector.create(redisTestConfig(redis.port, { passwordParameter: '/test/cache/auth' }));
      const client = connector.connect();
      clients.push(client);
      await waitUntilReady(client, 3000);
      expect(await client.ping()).toBe('PONG');
    });

    describeIf('aws')('with the AWS CLI to create the secret', () => {
      it('takes user and password from a Secrets Manager secret through its /aws/reference path', async () => {
        execFileSync(
          'aws',
          [
            '--endpoint-url',
            moto.endpoint,
            '--region',
            'us-east-1',
            'secretsmanager',
            'create-secret',
            '--name',
            'cache-auth',
            '--secret-string',
            '{"username":"app","password":"rbac-pw"}',
          ],
          {
            stdio: 'ignore',
            env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
          },
        );
        const admin = (await RedisConnector.create(redisTestConfig(redis.port, { password: 'from-ssm-secret' }))).connect();
        clients.push(admin);
        await waitUntilReady(admin, 3000);
        await admin.call('ACL', ['SETUSER', 'app', 'on', '>rbac-pw', '~*', '&*', '+@all']);
        const connector = await RedisConnector.create(redisTestConfig(redis.port, { passwordParameter: '/aws/reference/secretsmanager/cache-auth' }));
        const client = connector.connect();
        clients.push(client);
        await waitUntilReady(client, 3000);
        expect(await client.call('ACL', ['WHOAMI'])).toBe('app');
      });
    });

    it('fails at start, naming the parameter, when it does not exist', async () => {
      await expect(RedisConnector.create(redisTestConfig(1, { passwordParameter: '/test/cache/missing' }))).rejects.toThrow(/\/test\/cache\/missing/);
    });
  });
});
