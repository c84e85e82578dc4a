import { InMemoryVersionedCache } from '../../../adapters/memory/in-memory-cache';
import { versionedCacheContract } from '../../contract/versioned-cache.contract';

describe('InMemoryVersionedCache', () => {
  versionedCacheContract(
    async (settings) => {
      const cache = new InMemoryVersionedCache(settings);
      return { cache, log: cache, close: () => cache.close() };
    },
    { canLoseLog: false },
  );
});
