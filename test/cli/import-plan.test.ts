/** import's rule: create new keys, update keys still at the exported version, refuse keys changed since the export unless --force. */
import fc from 'fast-check';
import { EXPORT_FORMAT, parseExportFile, planImport, type ExportFile } from '../../packages/cli/src/import-plan';
import { formatDiff, jsonDiff, jsonEqual } from '../../packages/cli/src/json-diff';

const file = (items: ExportFile['items']): ExportFile => ({ format: EXPORT_FORMAT, tenant: null, exportedAt: '2026-12-01T00:00:00Z', items });

describe('import plan', () => {
  it('updates a key still at the exported version, with If-Match on that version', () => {
    const plan = planImport(file([{ key: 'k', value: 2, version: 3 }]), [{ key: 'k', value: 1, version: 3 }], false);
    expect(plan).toEqual([
      { kind: 'update', key: 'k', value: 2, headers: { 'if-match': '"3"' }, diff: [{ path: '$', op: 'change', from: 1, to: 2 }], forced: false },
    ]);
  });

  it('creates a key new to the file with If-None-Match: *', () => {
    expect(planImport(file([{ key: 'k', value: 1 }]), [], false)).toEqual([{ kind: 'create', key: 'k', value: 1, headers: { 'if-none-match': '*' } }]);
  });

  it('leaves equal values alone, whatever their versions', () => {
    expect(planImport(file([{ key: 'k', value: { a: [1] }, version: 1 }]), [{ key: 'k', value: { a: [1] }, version: 9 }], false)).toEqual([
      { kind: 'unchanged', key: 'k' },
    ]);
  });

  it('refuses a key changed since the export, and one deleted since', () => {
    const plan = planImport(
      file([
        { key: 'changed', value: 'mine', version: 1 },
        { key: 'deleted', value: 'mine', version: 4 },
      ]),
      [{ key: 'changed', value: 'theirs', version: 2 }],
      false,
    );
    expect(plan.map((a) => a.kind)).toEqual(['conflict', 'conflict']);
    expect(plan[0]).toMatchObject({ exportedVersion: 1, currentVersion: 2 });
    expect(plan[1]).toMatchObject({ exportedVersion: 4 });
    expect(plan[1]).not.toHaveProperty('currentVersion');
  });

  it('--force overwrites them, still conditional on the version it saw', () => {
    const plan = planImport(
      file([
        { key: 'changed', value: 'mine', version: 1 },
        { key: 'deleted', value: 'mine', version: 4 },
      ]),
      [{ key: 'changed', value: 'theirs', version: 2 }],
      true,
    );
    expect(plan).toMatchObject([
      { kind: 'update', key: 'changed', headers: { 'if-match': '"2"' }, forced: true },
      { kind: 'create', key: 'deleted', headers: { 'if-none-match': '*' } },
    ]);
  });

  it('never deletes keys the file does not hold', () => {
    expect(planImport(file([]), [{ key: 'other', value: 1, version: 1 }], true)).toEqual([]);
  });

  it('property: without --force nothing changed since the export is ever written', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.jsonValue(), fc.jsonValue(), (exported, current, mine, theirs) => {
        const [action] = planImport(file([{ key: 'k', value: mine, version: exported }]), [{ key: 'k', value: theirs, version: current }], false);
        if (action.kind === 'create' || action.kind === 'update') return exported === current && action.headers['if-match'] === `"${current}"`;
        return action.kind === 'unchanged' ? jsonEqual(mine, theirs) : exported !== current;
      }),
    );
  });

  it('parses export files and refuses malformed ones', () => {
    const text = JSON.stringify(file([{ key: 'k', value: null, version: 1 }]));
    expect(parseExportFile(text, 'f.json').items).toEqual([{ key: 'k', value: null, version: 1 }]);
    expect(() => parseExportFile('{', 'f.json')).toThrow(/f.json is not JSON/);
    expect(() => parseExportFile('{"items": []}', 'f.json')).toThrow(/not an export of tenant-config/);
    expect(() => parseExportFile(JSON.stringify(file([{ key: 'k' } as never])), 'f.json')).toThrow(/items\[0\] needs a key and a value/);
    expect(() => parseExportFile(JSON.stringify(file([{ key: 'k', value: 1, version: 0 }])), 'f.json')).toThrow(/positive integer/);
    expect(() =>
      parseExportFile(
        JSON.stringify(
          file([
            { key: 'k', value: 1 },
            { key: 'k', value: 2 },
          ]),
        ),
        'f.json',
      ),
    ).toThrow(/appears twice/);
  });
});

describe('JSON diff', () => {
  it('addresses each changed leaf by its path', () => {
    const diff = jsonDiff({ a: 1, b: { c: [1, 2, 3] }, 'x y': true, gone: 0 }, { a: 2, b: { c: [1, 5] }, 'x y': true, added: 'n' });
    expect(formatDiff(diff)).toEqual(['~ $.a: 1 → 2', '+ $.added: "n"', '~ $.b.c[1]: 2 → 5', '- $.b.c[2]: 3', '- $.gone: 0']);
    expect(formatDiff(jsonDiff({ a: 1 }, [1]))).toEqual(['~ $: {"a":1} → [1]']);
    expect(formatDiff(jsonDiff({ 'x y': 1 }, { 'x y': 2 }))).toEqual(['~ $["x y"]: 1 → 2']);
    expect(formatDiff([])).toEqual(['(no differences)']);
  });

  it('property: a value has no differences with itself, and some with any other', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(jsonDiff(a, a)).toEqual([]);
        return jsonEqual(a, b) === (JSON.stringify(a) === JSON.stringify(b) || jsonDiff(a, b).length === 0);
      }),
    );
  });
});
