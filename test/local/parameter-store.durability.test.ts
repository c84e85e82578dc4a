/**
 * The local Parameter Store's data file: a write costs the same whatever the store holds (an
 * append to the journal, no rewrite of the whole file), no acknowledged write is lost when the
 * process is SIGKILLed mid-writes, and a killed writer's temp files are swept on start.
 */
import { fork } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startLocalParameterStore, type LocalParameterStore } from '../../local/parameter-store';
import type { StoreSnapshot, StoredParameter } from '../../local/parameter-store/parameter-store';
import { localClientConfig } from '../support/servers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-ps-durability-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshDataFile = () => join(dir, `store-${++files}`, 'ssm.json');

/** A data file holding `count` parameters, as the store itself writes it (seeding through HTTP would take minutes today). */
function seedDataFile(dataFile: string, count: number): void {
  const parameters: StoredParameter[] = Array.from({ length: count }, (_, i) => ({
    name: `/seed/tenants/t/paramconfig/k${String(i).padStart(5, '0')}`,
    seq: i + 1,
    tags: [],
    versions: [
      {
        version: 1,
        value: JSON.stringify({ n: i, padding: 'x'.repeat(200) }),
        type: 'String',
        dataType: 'text',
        tier: 'Standard',
        lastModifiedMs: 0,
        lastModifiedUser: 'seed',
      },
    ],
  }));
  const snapshot: StoreSnapshot = { format: 'local-parameter-store/1', nextSeq: count + 1, parameters };
  rmSync(join(dataFile, '..'), { recursive: true, force: true });
  mkdirSync(join(dataFile, '..'), { recursive: true });
  writeFileSync(dataFile, JSON.stringify(snapshot));
}

async function withStore<T>(dataFile: string, work: (ssm: SSMClient, store: LocalParameterStore) => Promise<T>): Promise<T> {
  const store = await startLocalParameterStore({ dataFile });
  const ssm = new SSMClient(localClientConfig(store.endpoint));
  try {
    return await work(ssm, store);
  } finally {
    ssm.destroy();
    await store.close();
  }
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

describe('write cost', () => {
  /** Bytes written to disk per write, and whether the snapshot was rewritten, for 20 writes into a store of `count` parameters. */
  async function measure(count: number): Promise<{ bytesPerWrite: number; snapshotRewritten: boolean }> {
    const dataFile = freshDataFile();
    seedDataFile(dataFile, count);
    return withStore(dataFile, async (ssm) => {
      const before = statSync(dataFile);
      const journalBefore = sizeOf(`${dataFile}.journal`);
      for (let i = 0; i < 20; i++) {
        await ssm.send(new PutParameterCommand({ Name: `/seed/tenants/t/paramconfig/k${String(i).padStart(5, '0')}`, Value: `{"v":${i}}`, Overwrite: true }));
      }
      const after = statSync(dataFile);
      return {
        bytesPerWrite: (sizeOf(`${dataFile}.journal`) - journalBefore) / 20,
        snapshotRewritten: after.ino !== before.ino || after.mtimeMs !== before.mtimeMs || after.size !== before.size,
      };
    });
  }

  it('appends a few hundred bytes per write and never rewrites the data file, at 1,000 as at 5,000 parameters', async () => {
    const small = await measure(1000);
    const large = await measure(5000);

    expect(small.snapshotRewritten).toBe(false);
    expect(large.snapshotRewritten).toBe(false);
    expect(small.bytesPerWrite).toBeGreaterThan(0);
    expect(small.bytesPerWrite).toBeLessThan(1024);
    // The same writes cost the same bytes, whatever the store holds (the 5,000-parameter file is ~1.5 MB).
    expect(Math.abs(large.bytesPerWrite - small.bytesPerWrite)).toBeLessThanOrEqual(2);
  }, 60_000);
});

describe('start', () => {
  it('folds the journal into the data file and empties it; the state is the same after', async () => {
    const dataFile = freshDataFile();
    await withStore(dataFile, async (ssm) => {
      for (let i = 0; i < 5; i++) await ssm.send(new PutParameterCommand({ Name: '/fold/a', Value: `v${i}`, Type: 'String', Overwrite: true }));
      await ssm.send(new PutParameterCommand({ Name: '/fold/b', Value: 'b', Type: 'String' }));
    });
    expect(sizeOf(`${dataFile}.journal`)).toBeGreaterThan(0);

    await withStore(dataFile, async (ssm) => {
      expect(sizeOf(`${dataFile}.journal`)).toBe(0);
      const history = await ssm.send(new GetParameterHistoryCommand({ Name: '/fold/a' }));
      expect(history.Parameters?.map((p) => p.Value)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
      const byPath = await ssm.send(new GetParametersByPathCommand({ Path: '/fold' }));
      expect(byPath.Parameters?.map((p) => p.Name)).toEqual(['/fold/a', '/fold/b']);
    });
  });

  it('skips journal lines the data file already holds (a crash after folding, before emptying the journal)', async () => {
    const dataFile = freshDataFile();
    await withStore(dataFile, async (ssm) => {
      await ssm.send(new PutParameterCommand({ Name: '/twice/a', Value: 'one', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/twice/a', Value: 'two', Overwrite: true }));
    });
    copyFileSync(`${dataFile}.journal`, join(dir, 'journal-copy'));
    await withStore(dataFile, async () => undefined); // folds the journal in
    copyFileSync(join(dir, 'journal-copy'), `${dataFile}.journal`); // as if emptying it never happened

    await withStore(dataFile, async (ssm) => {
      const history = await ssm.send(new GetParameterHistoryCommand({ Name: '/twice/a' }));
      expect(history.Parameters?.map((p) => [p.Version, p.Value])).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
    });
  });

  it('drops a torn last line (a write cut off by a crash, never acknowledged) and keeps every line before it', async () => {
    const dataFile = freshDataFile();
    await withStore(dataFile, async (ssm) => {
      await ssm.send(new PutParameterCommand({ Name: '/torn/a', Value: 'kept', Type: 'String' }));
    });
    appendFileSync(`${dataFile}.journal`, '0123456789abcdef {"lsn":2,"record":{"op":"put","na');

    await withStore(dataFile, async (ssm) => {
      expect((await ssm.send(new GetParameterCommand({ Name: '/torn/a' }))).Parameter?.Value).toBe('kept');
      expect((await ssm.send(new PutParameterCommand({ Name: '/torn/b', Value: 'next', Type: 'String' }))).Version).toBe(1);
    });
    await withStore(dataFile, async (ssm) => {
      expect((await ssm.send(new GetParameterCommand({ Name: '/torn/b' }))).Parameter?.Value).toBe('next');
    });
  });

  it('removes temp files a killed writer left, but not those of a live process or of other files', async () => {
    const dataFile = freshDataFile();
    const folder = join(dataFile, '..');
    mkdirSync(folder, { recursive: true });
    // Above the largest pid Linux hands out (2^22): never a live process.
    const dead = `ssm.json.${2 ** 22 + 4321}.tmp`;
    const live = `ssm.json.${process.ppid}.tmp`;
    const other = `other.json.${2 ** 22 + 4321}.tmp`;
    for (const name of [dead, live, other]) writeFileSync(join(folder, name), '{"half":');

    await withStore(dataFile, async () => undefined);

    expect(readdirSync(folder).sort()).toEqual([live, other, 'ssm.json', 'ssm.json.journal'].sort());
  });
});

describe('crash safety', () => {
  /** Starts the store in its own process on `dataFile`. */
  function startChild(dataFile: string): Promise<{ endpoint: string; kill: () => Promise<void> }> {
    const child = fork(join(__dirname, 'support', 'parameter-store-process.ts'), [dataFile], {
      execArgv: ['--require', require.resolve('tsx/cjs')],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`store process exited with ${code} before it listened`)));
      child.once('message', (m: { endpoint: string }) => {
        child.removeAllListeners('exit');
        resolve({
          endpoint: m.endpoint,
          kill: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }),
        });
      });
    });
  }

  it('loses no acknowledged write across SIGKILLs in the middle of concurrent writes, and reopens every time', async () => {
    const dataFile = freshDataFile();
    /** Per key, the highest version Parameter Store acknowledged, and its value. */
    const acknowledged = new Map<string, { version: number; value: string }>();
    const WRITERS = 6;

    for (let round = 0; round < 3; round++) {
      const child = await startChild(dataFile);
      const ssm = new SSMClient({ ...localClientConfig(child.endpoint), maxAttempts: 1 });
      let stop = false;
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        const name = `/crash/w${w}`;
        for (let i = 0; !stop; i++) {
          const value = `r${round}-i${i}`;
          try {
            const out = await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
            acknowledged.set(name, { version: out.Version!, value });
          } catch {
            return; // the process is gone: this write was never acknowledged
          }
        }
      });
      // Kill at a different point of the write stream each round.
      await new Promise((r) => setTimeout(r, 300 + round * 170));
      await child.kill();
      stop = true;
      await Promise.all(writers);
      ssm.destroy();
      expect(acknowledged.size).toBe(WRITERS);

      await withStore(dataFile, async (reader) => {
        for (const [name, acked] of acknowledged) {
          const current = (await reader.send(new GetParameterCommand({ Name: name }))).Parameter!;
          // The write in flight at the kill may have landed without its answer: never less than acknowledged.
          expect(current.Version).toBeGreaterThanOrEqual(acked.version);
          const at = (await reader.send(new GetParameterCommand({ Name: `${name}:${acked.version}` }))).Parameter!;
          expect(at.Value).toBe(acked.value);
          acknowledged.set(name, { version: current.Version!, value: current.Value! });
        }
      });
      expect(readdirSync(join(dataFile, '..')).sort()).toEqual(['ssm.json', 'ssm.json.journal']);
    }
  }, 90_000);
});
