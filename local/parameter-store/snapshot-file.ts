import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The stored document, or undefined when there is none yet. A corrupt file fails loudly with its path. */
export function readJsonFile<T>(path: string): T | undefined {
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
    throw new Error(`cannot read ${path}: ${(e as Error).message}; move it away to start empty`, { cause: e });
  }
}

const tempFileOf = (path: string, pid: number) => `${path}.${pid}.tmp`;

/**
 * Replaces `path` with `text` atomically (temp file, fsync, rename, fsync of the folder), so a
 * crash leaves the old or the new file, never half of one. A crash before the rename leaves
 * the temp file behind: {@link removeStaleTempFiles} sweeps it on the next start.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempFileOf(path, process.pid);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await syncFolder(dirname(path));
}

/** Makes a rename or a new file in the folder durable; a no-op where folders cannot be opened (Windows). */
export async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not supported here: the rename is still atomic, only its durability on power loss is weaker.
  } finally {
    await handle?.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temp files of `path` that a killed writer left (`<path>.<pid>.tmp`): ours, and
 * those of processes no longer running. A live process's temp file may be a write in progress
 * and is left alone. Returns the names removed.
 */
export function removeStaleTempFiles(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`) || !name.endsWith('.tmp')) continue;
    const pid = name.slice(base.length + 1, -'.tmp'.length);
    if (!/^\d+$/.test(pid)) continue;
    if (Number(pid) !== process.pid && isAlive(Number(pid))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already (another start raced us): nothing to do.
    }
  }
  return removed;
}
