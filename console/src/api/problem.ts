/** An API answer that was not a success: the problem+json body (RFC 9457) when there is one. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
}

export class ApiError extends Error {
  readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    /** The current version on a 412 (`ETag`). */
    readonly etag?: string,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }

  get isConflict(): boolean {
    return this.status === 412;
  }
}

/** What the page shows for a failure: the problem's detail as the API said it. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError && e.status === 401) return 'Your sign-in is no longer accepted (expired or revoked): sign out and sign in again.';
  if (e instanceof ApiError) {
    const title = e.problem?.title ?? `HTTP ${e.status}`;
    return e.problem?.detail ? `${title}: ${e.problem.detail}` : title;
  }
  if (e instanceof TypeError) return `The API could not be reached (${e.message})`;
  return e instanceof Error ? e.message : String(e);
}
