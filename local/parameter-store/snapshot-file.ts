import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Keeps a JSON document on disk with atomic replacement (temp file, fsync, rename),
 * so a crash leaves the old or the new file, never half of one. Writes are group
 * commits: every `commit()` resolves once a write that began after it was asked for
 * is on disk, and all commits asked for during one write share the next write.
 */
export class SnapshotFile<T> {
  private inFlight: Promise<void> | undefined;
  private next: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(
    readonly path: string,
    private readonly capture: () => T,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** The stored document, or undefined when there is none yet. A corrupt file fails loudly with its path. */
  static read<T>(path: string): T | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new Error(`cannot read ${path}: ${(e as Error).message}; move it away to start empty`);
    }
  }

  commit(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.write().finally(() => this.afterWrite());
      return this.inFlight;
    }
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.next = { promise, resolve, reject };
    }
    return this.next.promise;
  }

  /** Resolves when nothing is waiting to be written. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  private afterWrite(): void {
    this.inFlight = undefined;
    const waiting = this.next;
    this.next = undefined;
    if (waiting) {
      this.inFlight = this.write().finally(() => this.afterWrite());
      this.inFlight.then(waiting.resolve, waiting.reject);
    }
  }

  private async write(): Promise<void> {
    // Captured synchronously, so the file holds every change made before this write began.
    const text = JSON.stringify(this.capture());
    const temp = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
  }
}
