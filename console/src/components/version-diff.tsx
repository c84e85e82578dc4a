/** Two values side by side, line by line, changes marked (not by colour alone: a sign per row). */
import { lineDiff, prettyLines, type DiffRow } from '../diff/line-diff';

const SIGNS: Record<DiffRow['kind'], string> = { same: ' ', changed: '~', removed: '−', added: '+' };

export function VersionDiff({ left, right, leftLabel, rightLabel }: { left: unknown; right: unknown; leftLabel: string; rightLabel: string }) {
  const rows = lineDiff(prettyLines(left), prettyLines(right));
  const changes = rows.filter((r) => r.kind !== 'same').length;
  return (
    <div class="table-wrap">
      <table class="diff">
        <caption>
          {leftLabel} compared with {rightLabel}: {changes === 0 ? 'identical' : `${changes} line${changes === 1 ? '' : 's'} differ`}
        </caption>
        <thead>
          <tr>
            <th scope="col">{leftLabel}</th>
            <th scope="col">{rightLabel}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i} class={`diff-${row.kind}`} data-diff={row.kind}>
              <td>
                <span class="diff-sign" aria-hidden="true">
                  {row.kind === 'added' ? ' ' : SIGNS[row.kind]}
                </span>
                <code>{'left' in row ? row.left : ''}</code>
              </td>
              <td>
                <span class="diff-sign" aria-hidden="true">
                  {row.kind === 'removed' ? ' ' : SIGNS[row.kind]}
                </span>
                <code>{'right' in row ? row.right : ''}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
