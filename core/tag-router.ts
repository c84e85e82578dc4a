import type { ConfigBackend } from './backend-port';
import type { ConfigKey, KeyPrefix } from './key';
import type { BackendKind, RegisteredTag, TagRegistry } from './tag-registry';

/** Picks the backend for a key by its tag, as the registry says. Adding a tag never touches this class. */
export class TagRouter {
  constructor(
    readonly registry: TagRegistry,
    private readonly backends: Readonly<Record<BackendKind, ConfigBackend>>,
  ) {
    for (const tag of registry.all()) {
      if (!backends[tag.backend]) throw new Error(`tag '${tag.name}' needs backend '${tag.backend}', which is not configured`);
    }
  }

  route(keyOrPrefix: ConfigKey | KeyPrefix): { tag: RegisteredTag; backend: ConfigBackend } {
    const tag = this.registry.resolve(keyOrPrefix);
    return { tag, backend: this.backends[tag.backend] };
  }
}
