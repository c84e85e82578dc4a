import { InMemoryConfigBackend } from '../support/in-memory-backend';
import { configBackendContract } from './config-backend.contract';

// The contract's self-check: the in-memory backend follows the port's documented semantics exactly.
configBackendContract('in-memory', async () => ({
  backend: new InMemoryConfigBackend(),
  tag: 'tenantconfig',
  monotonicAcrossDelete: true,
  cleanup: async () => undefined,
}));
