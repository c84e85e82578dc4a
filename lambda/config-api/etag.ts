/**
 * ETags and the conditional headers (RFC 9110 §8.8.3, §13.1). An item's ETag is its
 * version as a strong entity tag: `"7"`.
 */
import { InvalidRequestError } from '../../core/errors';

export const formatEtag = (version: number): string => `"${version}"`;

/**
 * What `If-Match` asks of a write:
 * - `none`: no header, an unconditional write;
 * - `exists`: `*`, the key must exist (a PUT becomes update-only; a DELETE of a missing key is 412, not 404);
 * - `version`: compare-and-set against that version.
 */
export type IfMatch = { readonly kind: 'none' } | { readonly kind: 'exists' } | { readonly kind: 'version'; readonly version: number };

const STRONG_VERSION_ETAG = /^"([1-9][0-9]{0,15})"$/;

/**
 * A single strong ETag `"<positive integer>"` or `*`. Lists are refused because a write
 * names exactly one expected version; weak ETags are refused because If-Match compares
 * strongly (RFC 9110 §13.1.1), so a weak one could never match.
 */
export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined) return { kind: 'none' };
  const text = header.trim();
  if (text === '*') return { kind: 'exists' };
  const match = STRONG_VERSION_ETAG.exec(text);
  const version = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(version)) {
    const hint = text.startsWith('W/')
      ? 'weak ETags cannot be used with If-Match'
      : text.includes(',')
        ? 'If-Match takes a single ETag'
        : 'expected a quoted positive integer, e.g. If-Match: "3", or *';
    throw new InvalidRequestError(`If-Match header is malformed: ${hint}`);
  }
  return { kind: 'version', version };
}

/** `If-None-Match` on a read: `*`, or the entity tags the client holds (weak or strong). */
export type IfNoneMatch = { readonly kind: 'none' } | { readonly kind: 'any' } | { readonly kind: 'tags'; readonly tags: readonly string[] };

/** entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a comma-separated list; etagc excludes `"`, controls and space. */
const ENTITY_TAG_IN_LIST = /[ \t]*(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)/y;

export function parseIfNoneMatch(header: string | undefined): IfNoneMatch {
  if (header === undefined) return { kind: 'none' };
  const text = header.trim();
  if (text === '*') return { kind: 'any' };
  const tags: string[] = [];
  ENTITY_TAG_IN_LIST.lastIndex = 0;
  while (ENTITY_TAG_IN_LIST.lastIndex < text.length) {
    const start = ENTITY_TAG_IN_LIST.lastIndex;
    const match = ENTITY_TAG_IN_LIST.exec(text);
    if (!match) {
      throw new InvalidRequestError(`If-None-Match header is malformed at position ${start + 1}: expected *, or a list of quoted ETags such as "3"`);
    }
    tags.push(match[1]);
  }
  if (tags.length === 0) throw new InvalidRequestError('If-None-Match header is empty: expected * or a list of quoted ETags');
  return { kind: 'tags', tags };
}

/** Weak comparison (RFC 9110 §13.1.2): `W/"3"` and `"3"` both match version 3. */
export function noneMatchHolds(condition: IfNoneMatch, version: number): boolean {
  if (condition.kind === 'none') return true;
  if (condition.kind === 'any') return false;
  return !condition.tags.includes(String(version));
}
