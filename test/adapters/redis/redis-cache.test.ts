import { startRedis, describeIf, type RunningServer } from '../../support/servers';
import { versionedCacheContract } from '../../contract/versioned-cache.contract';
import { redisSubjects, redisTestConfig, type RedisSubjects } from '../../support/redis/redis-subject';

describeIf('redis-server')('RedisVersionedCache + RedisChangeLog on a standalone redis-server', () => {
  let server: RunningServer;
  let subjects: RedisSubjects;

  beforeAll(async () => {
    server = await startRedis();
    subjects = await redisSubjects(redisTestConfig(server.port));
  });

  afterAll(async () => {
    await subjects?.close();
    await server?.stop();
  });

  versionedCacheContract((settings) => subjects.make(settings), { canLoseLog: true });
});
