/**
 * Cluster mode (ElastiCache Serverless) runs a multi-key script only when all its keys hash to
 * one slot. The entry, its shard's log and the log's epoch must share one, for any tenant and key.
 */
import fc from 'fast-check';
import { RedisKeyLayout } from '../../../adapters/redis/key-layout';
import { Redis } from 'ioredis';
import { describeIf } from '../../support/servers';
import { startRedisCluster, type RunningCluster } from '../../support/redis/redis-cluster';

/** Redis's key slot: CRC16 (XMODEM) of the hash tag, if the key has a non-empty one, mod 16384. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

const tenantArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
const keyArb = fc
  .tuple(fc.constantFrom('tenantconfig', 'paramconfig', 'flags'), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}(\/[A-Za-z0-9_.-]{1,20}){0,3}$/))
  .map(([t, n]) => `${t}:${n}`);

describe('RedisKeyLayout', () => {
  const layout = new RedisKeyLayout({ namespace: 'tc', shards: 16 });

  it('names keys as documented', () => {
    const shard = layout.shardOf('acme');
    expect(layout.entryKey('acme', 'tenantconfig:plan')).toBe(`tc:{${shard}}:e:acme:tenantconfig:plan`);
    expect(layout.logKey(shard)).toBe(`tc:{${shard}}:log`);
    expect(layout.epochKey(shard)).toBe(`tc:{${shard}}:epoch`);
  });

  it("puts every entry in its shard's slot, with the log and the epoch", () => {
    fc.assert(
      fc.property(tenantArb, keyArb, (tenant, key) => {
        const shard = layout.shardOf(tenant);
        const slot = keySlot(layout.logKey(shard));
        expect(keySlot(layout.entryKey(tenant, key))).toBe(slot);
        expect(keySlot(layout.epochKey(shard))).toBe(slot);
      }),
      { numRuns: 500 },
    );
  });

  it('spreads the shards over distinct slots, so a cluster can place them on different nodes', () => {
    const slots = new Set(Array.from({ length: 16 }, (_, s) => keySlot(layout.logKey(s))));
    expect(slots.size).toBe(16);
  });
});

describeIf('redis-server')('RedisKeyLayout against CLUSTER KEYSLOT', () => {
  let cluster: RunningCluster;
  let node: Redis;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    node = new Redis({ port: cluster.nodes[0].port, host: '127.0.0.1' });
  }, 30_000);

  afterAll(async () => {
    node?.disconnect();
    await cluster?.stop();
  });

  it("agrees with Redis's own slot of every key", async () => {
    const layout = new RedisKeyLayout({ namespace: 'tc', shards: 64 });
    const samples = fc.sample(fc.tuple(tenantArb, keyArb), 100);
    for (const [tenant, key] of samples) {
      const shard = layout.shardOf(tenant);
      const [entry, log] = (await Promise.all([
        node.call('CLUSTER', ['KEYSLOT', layout.entryKey(tenant, key)]),
        node.call('CLUSTER', ['KEYSLOT', layout.logKey(shard)]),
      ])) as number[];
      expect(entry).toBe(log);
      expect(entry).toBe(keySlot(layout.logKey(shard)));
    }
  });
});
