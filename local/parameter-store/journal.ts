import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParameterStore, type StoreRecord, type StoreSnapshot } from './parameter-store';
import { readJsonFile, removeStaleTempFiles, syncFolder, writeFileAtomically } from './snapshot-file';

/*
 * Durability of the local Parameter Store: a snapshot (`<dataFile>`, the whole state as JSON)
 * plus an append-only journal (`<dataFile>.journal`) of the changes since. A write appends one
 * line per change and fdatasyncs it before the caller is answered, so its cost depends on the
 * change, not on the size of the store. On start the journal is replayed over the snapshot and
 * folded into a new snapshot (written atomically), then emptied.
 *
 * Crash safety: an acknowledged write is a synced journal line. A crash mid-append leaves at
 * most a torn last line, which fails its checksum and is dropped (its write was never answered).
 * Lines carry a sequence number (lsn) and the snapshot the last one it includes, so a crash
 * between writing the new snapshot and emptying the journal only replays lines already in it,
 * which are skipped.
 */

interface JournalLine {
  readonly lsn: number;
  readonly record: StoreRecord;
}

const checksum = (json: string) => createHash('sha256').update(json).digest('hex').slice(0, 16);

function encodeLine(line: JournalLine): string {
  const json = JSON.stringify(line);
  return `${checksum(json)} ${json}\n`;
}

/** The journal's intact lines, in order, up to the first line that is torn or fails its checksum. */
function readJournal(path: string): { lines: JournalLine[]; droppedBytes: number; bytes: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], droppedBytes: 0, bytes: 0 };
    throw e;
  }
  const lines: JournalLine[] = [];
  let offset = 0;
  for (;;) {
    const end = text.indexOf('\n', offset);
    if (end < 0) break;
    const raw = text.slice(offset, end);
    const space = raw.indexOf(' ');
    const json = raw.slice(space + 1);
    if (space !== 16 || checksum(json) !== raw.slice(0, 16)) break;
    let line: JournalLine;
    try {
      line = JSON.parse(json) as JournalLine;
    } catch {
      break;
    }
    if (lines.length > 0 && line.lsn !== lines[lines.length - 1].lsn + 1) break;
    lines.push(line);
    offset = end + 1;
  }
  return { lines, droppedBytes: Buffer.byteLength(text.slice(offset)), bytes: Buffer.byteLength(text) };
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * The open journal. `append` is a group commit: every change queued while one append is being
 * synced goes to disk in the next one, with one fdatasync for all of them.
 */
export class StoreJournal {
  private pending = '';
  private waiters: Waiter[] = [];
  private draining: Promise<void> | undefined;
  private failed: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private nextLsn: number,
  ) {}

  /**
   * Loads the store kept at `dataFile`: removes temp files left by a killed writer, reads the
   * snapshot, replays the journal, folds both into a new snapshot and opens an empty journal.
   */
  static async open(dataFile: string, accountId: string): Promise<{ store: ParameterStore; journal: StoreJournal; replayed: number }> {
    mkdirSync(dirname(dataFile), { recursive: true });
    removeStaleTempFiles(dataFile);
    const snapshot = readJsonFile<StoreSnapshot>(dataFile);
    let store: ParameterStore;
    try {
      store = new ParameterStore(accountId, snapshot);
    } catch (e) {
      throw new Error(`cannot load ${dataFile}: ${(e as Error).message}`, { cause: e });
    }
    const journalPath = `${dataFile}.journal`;
    const { lines, droppedBytes, bytes } = readJournal(journalPath);
    let lsn = snapshot?.lsn ?? 0;
    let replayed = 0;
    for (const line of lines) {
      if (line.lsn <= lsn) continue;
      store.apply(line.record);
      lsn = line.lsn;
      replayed += 1;
    }
    if (droppedBytes > 0) {
      process.emitWarning(`local Parameter Store: dropped ${droppedBytes} bytes of an unfinished write at the end of ${journalPath}`);
    }
    if (bytes > 0 || snapshot === undefined) {
      // The new snapshot must be durable before the journal it includes is emptied.
      await writeFileAtomically(dataFile, JSON.stringify(store.snapshot(lsn)));
    }
    const handle = await open(journalPath, 'a');
    if (bytes > 0) await handle.truncate(0);
    await handle.sync();
    await syncFolder(dirname(journalPath));
    return { store, journal: new StoreJournal(journalPath, handle, lsn + 1), replayed };
  }

  /** Resolves once the records are on disk; records are numbered in the order they are appended. */
  append(records: readonly StoreRecord[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    for (const record of records) this.pending += encodeLine({ lsn: this.nextLsn++, record });
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.draining ??= this.drain();
    return done;
  }

  /** Waits for every queued append, then closes the file. */
  async close(): Promise<void> {
    await this.draining;
    await this.handle.close();
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const bytes = Buffer.from(this.pending, 'utf8');
      const waiters = this.waiters;
      this.pending = '';
      this.waiters = [];
      try {
        for (let written = 0; written < bytes.length;) {
          written += (await this.handle.write(bytes, written, bytes.length - written)).bytesWritten;
        }
        await this.handle.datasync();
        for (const w of waiters) w.resolve();
      } catch (e) {
        // Part of a line may be on disk: appending after it would hide every later line on
        // replay, so no write is accepted any more (a restart recovers what was synced).
        this.failed = new Error(`local Parameter Store: writing ${this.path} failed (${(e as Error).message}); restart it`);
        for (const w of [...waiters, ...this.waiters]) w.reject(this.failed);
        this.waiters = [];
        this.pending = '';
      }
    }
    this.draining = undefined;
  }
}
