/** Small pieces every view uses: loading state, problems, JSON, a layer's badge. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/problem';

export function ProblemAlert({ error, label }: { error: unknown; label?: string }) {
  if (error === undefined || error === null) return null;
  return (
    <div class="problem" role="alert">
      {label ? <strong>{label}: </strong> : null}
      {describeError(error)}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {children}
    </div>
  );
}

export function JsonBlock({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** The value on one line, cut at `max` characters, for tables. */
export const compactJson = (value: unknown, max = 80): string => {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

export function SourceBadge({ source }: { source?: string }) {
  if (!source) return null;
  const kind = source === 'tenant' ? 'tenant' : source === 'platform' ? 'platform' : 'segment';
  return (
    <span class={`badge badge-${kind}`} title={`effective value from the ${source} layer`}>
      {source}
    </span>
  );
}

export const formatTime = (iso: string | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '';

export interface Async<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change; a newer run's answer wins over an older one still in flight. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, loading: false }),
      (error: unknown) => !controller.signal.aborted && setState({ error, loading: false }),
    );
    return () => controller.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A view's heading, focused when the view opens so a screen reader announces where it is. */
export function ViewHeading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus({ preventScroll: true }), []);
  return (
    <h2 ref={ref} tabIndex={-1} class="view-heading">
      {children}
    </h2>
  );
}
