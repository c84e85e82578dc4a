import { describeIf } from '../../support/servers';
import { versionedCacheContract } from '../../contract/versioned-cache.contract';
import { startRedisCluster, type RunningCluster } from '../../support/redis/redis-cluster';
import { redisSubjects, redisTestConfig, type RedisSubjects } from '../../support/redis/redis-subject';

/**
 * The same contract on a three-node Redis Cluster: a cluster-enabled server refuses any
 * script or command whose keys span hash slots (CROSSSLOT), as ElastiCache Serverless does.
 */
describeIf('redis-server')('RedisVersionedCache + RedisChangeLog on a Redis Cluster (cluster mode, as ElastiCache Serverless)', () => {
  let cluster: RunningCluster;
  let subjects: RedisSubjects;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    subjects = await redisSubjects(redisTestConfig(cluster.nodes[0].port, { cluster: true }));
  }, 30_000);

  afterAll(async () => {
    await subjects?.close();
    await cluster?.stop();
  });

  versionedCacheContract((settings) => subjects.make(settings), { canLoseLog: true });
});
