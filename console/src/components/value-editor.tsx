/**
 * A JSON value typed in a textarea, checked as the API will check it (JSON syntax, the tag's
 * size limit and schema) on every keystroke; the form refuses to send while a problem is shown.
 */
import { useMemo } from 'preact/hooks';
import { valueProblems, tagDescription } from '../schema/tag-rules';

export interface ValueCheck {
  readonly value?: unknown;
  readonly problems: readonly string[];
}

export function checkValueText(key: string, text: string): ValueCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { problems: [`not JSON: ${(e as Error).message}`] };
  }
  return { value, problems: valueProblems(key, value).map((p) => `${p.path || 'value'} ${p.message}`) };
}

export function ValueEditor(props: { id: string; itemKey: string; text: string; onInput: (text: string) => void; label?: string; rows?: number }) {
  const check = useMemo(() => checkValueText(props.itemKey, props.text), [props.itemKey, props.text]);
  const errorsId = `${props.id}-problems`;
  const hintId = `${props.id}-hint`;
  const invalid = props.text.trim() !== '' && check.problems.length > 0;
  return (
    <div class="value-editor">
      <label for={props.id}>{props.label ?? 'Value (JSON)'}</label>
      <textarea
        id={props.id}
        rows={props.rows ?? 8}
        spellcheck={false}
        value={props.text}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        aria-invalid={invalid}
        aria-describedby={`${hintId} ${errorsId}`}
        class="mono"
      />
      <p id={hintId} class="hint">
        {tagDescription(props.itemKey) ?? 'The key’s tag decides where it is stored and what values it accepts.'}
      </p>
      <div id={errorsId} aria-live="polite">
        {invalid ? (
          <ul class="schema-problems" aria-label="Problems with this value">
            {check.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
