/**
 * The last-known-good state on disk, for a cold start while the service is down. Written to a
 * temp file then renamed over the old one, so a crash mid-write leaves the previous file whole;
 * writes are queued one behind the other, so an older state never lands after a newer one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClientItem, ConfigClientLogger } from './types';

const FORMAT = 'tenantconfig.client.snapshot/v1';

export interface SavedState {
  readonly prefixes: readonly string[];
  /** The cursor the state was consistent with; kept for diagnosis, a cold start asks for a snapshot. */
  readonly cursor?: string;
  readonly savedAt: string;
  readonly items: readonly ClientItem[];
}

function samePrefixes(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

export class SnapshotFile {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly logger: ConfigClientLogger,
  ) {}

  /** The saved state, or undefined when there is none, it is unreadable, or it was saved for other prefixes. */
  async read(prefixes: readonly string[]): Promise<SavedState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn('config-client: snapshot file unreadable; starting without it', { path: this.path, error: String(e) });
      }
      return undefined;
    }
    try {
      const saved = JSON.parse(text) as SavedState & { format?: unknown };
      if (saved.format !== FORMAT || !Array.isArray(saved.items) || !Array.isArray(saved.prefixes)) throw new Error(`not a ${FORMAT} file`);
      if (!samePrefixes(saved.prefixes, prefixes)) {
        // Another configuration's keys must never be served as this one's.
        this.logger.warn('config-client: snapshot file was saved for other prefixes; ignored', { path: this.path, saved: saved.prefixes, wanted: prefixes });
        return undefined;
      }
      return saved;
    } catch (e) {
      this.logger.warn('config-client: snapshot file is damaged; starting without it', { path: this.path, error: String(e) });
      return undefined;
    }
  }

  /** Queues a write; resolves when it (and every earlier one) is on disk. Never rejects: a failure is logged. */
  write(state: SavedState): Promise<void> {
    const body = JSON.stringify({ format: FORMAT, ...state });
    this.queue = this.queue.then(() =>
      this.writeAtomically(body).catch((e: unknown) =>
        this.logger.warn('config-client: could not write the snapshot file', { path: this.path, error: String(e) }),
      ),
    );
    return this.queue;
  }

  /** Resolves when every queued write is done. */
  flush(): Promise<void> {
    return this.queue;
  }

  private async writeAtomically(body: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      // 0600: values of secret tags are in clear here.
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(body, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }
}
