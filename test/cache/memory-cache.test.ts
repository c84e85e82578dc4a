import { InMemoryVersionedCache } from '../../core/memory-cache';
import { versionedCacheContract } from './cache.contract';

describe('InMemoryVersionedCache', () => {
  versionedCacheContract(
    async (settings) => {
      const cache = new InMemoryVersionedCache(settings);
      return { cache, log: cache, close: () => cache.close() };
    },
    { canLoseLog: false },
  );
});
