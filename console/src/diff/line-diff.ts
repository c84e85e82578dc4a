/**
 * A side-by-side line diff of two JSON values pretty-printed: the longest common subsequence of
 * their lines, then rows pairing removed lines with added ones. Values are small (≤ 8 KiB), so
 * the quadratic table is a few thousand cells.
 */
export type DiffRow =
  | { readonly kind: 'same'; readonly left: string; readonly right: string }
  | { readonly kind: 'changed'; readonly left: string; readonly right: string }
  | { readonly kind: 'removed'; readonly left: string }
  | { readonly kind: 'added'; readonly right: string };

export const prettyLines = (value: unknown): string[] => (value === undefined ? [] : JSON.stringify(value, null, 2).split('\n'));

export function lineDiff(left: readonly string[], right: readonly string[]): DiffRow[] {
  const n = left.length;
  const m = right.length;
  // lcs[i][j]: length of the LCS of left[i..] and right[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = left[i] === right[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const rows: DiffRow[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    const paired = Math.min(removed.length, added.length);
    for (let k = 0; k < paired; k++) rows.push({ kind: 'changed', left: removed[k], right: added[k] });
    for (const line of removed.slice(paired)) rows.push({ kind: 'removed', left: line });
    for (const line of added.slice(paired)) rows.push({ kind: 'added', right: line });
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && left[i] === right[j]) {
      flush();
      rows.push({ kind: 'same', left: left[i], right: right[j] });
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
      removed.push(left[i++]);
    } else {
      added.push(right[j++]);
    }
  }
  flush();
  return rows;
}
