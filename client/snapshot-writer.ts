/**
 * When the last-known-good file is written: at once after a whole new state (a snapshot, an
 * HTTP load), at most once per interval while changes arrive, and a pending write on close.
 */
import { SnapshotFile, type SavedState } from './snapshot-file';
import type { ConfigClientLogger } from './types';

export class SnapshotWriter {
  private readonly file: SnapshotFile;
  private timer?: NodeJS.Timeout;

  constructor(
    path: string,
    logger: ConfigClientLogger,
    private readonly intervalMs: number,
    /** The state to save, read at the moment of writing. */
    private readonly state: () => SavedState,
  ) {
    this.file = new SnapshotFile(path, logger);
  }

  get path(): string {
    return this.file.path;
  }

  restore(prefixes: readonly string[]): Promise<SavedState | undefined> {
    return this.file.read(prefixes);
  }

  writeNow(): void {
    this.clearTimer();
    void this.file.write(this.state());
  }

  /** After a change: never later than one interval after it, and at most one write per interval. */
  writeSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow();
    }, this.intervalMs);
  }

  /** Writes what is pending, then resolves when every write is on disk. */
  async close(): Promise<void> {
    const pending = this.timer !== undefined;
    this.clearTimer();
    if (pending) this.writeNow();
    await this.file.flush();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
