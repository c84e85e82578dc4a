import { InvalidKeyError } from './errors';

/** A key that passed {@link parseKey}: `<tag>:<name>`. */
export interface ConfigKey {
  readonly tag: string;
  /** Slash-separated segments of `[A-Za-z0-9_.-]`. */
  readonly name: string;
  /** `${tag}:${name}` */
  readonly raw: string;
}

/** A list prefix that passed {@link parseKeyPrefix}: a tag and the start of a name (possibly empty). */
export interface KeyPrefix {
  readonly tag: string;
  readonly namePrefix: string;
  readonly raw: string;
}

export const TAG_PATTERN = /^[a-z][a-z0-9]{0,31}$/;
const NAME_CHAR = /[A-Za-z0-9_.-]/;
/** Parameter Store allows 15 levels; `/<root>/<stage>/tenants/<tenant>/<tag>` takes five of them (docs/design.md §9, decision 3). */
export const MAX_NAME_SEGMENTS = 10;
export const MAX_NAME_LENGTH = 256;

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return cp < 0x20 || cp === 0x7f ? `control character U+${hex}` : `character '${ch}' (U+${hex})`;
}

function splitTag(raw: string, what: 'key' | 'prefix'): { tag: string; rest: string } {
  const colon = raw.indexOf(':');
  if (colon < 0) {
    throw new InvalidKeyError(`${what} '${printable(raw)}' has no tag: expected '<tag>:<name>', e.g. 'tenantconfig:plan'`);
  }
  const tag = raw.slice(0, colon);
  if (!TAG_PATTERN.test(tag)) {
    throw new InvalidKeyError(`tag '${printable(tag)}' is malformed: expected a lowercase letter followed by up to 31 lowercase letters or digits`);
  }
  return { tag, rest: raw.slice(colon + 1) };
}

/** Checks the name characters and segments; `partial` allows an unfinished last segment (list prefixes). */
function checkName(name: string, partial: boolean): void {
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidKeyError(`name is ${name.length} characters long; the maximum is ${MAX_NAME_LENGTH}`);
  }
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch !== '/' && !NAME_CHAR.test(ch)) {
      const full = String.fromCodePoint(name.codePointAt(i)!);
      throw new InvalidKeyError(`${describeChar(full)} at position ${i + 1} of the name is not allowed: names use A-Z a-z 0-9 _ . - with '/' between segments`);
    }
  }
  const segments = name.split('/');
  if (segments.length > MAX_NAME_SEGMENTS) {
    throw new InvalidKeyError(`name has ${segments.length} segments; the maximum is ${MAX_NAME_SEGMENTS}`);
  }
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '' && !(partial && last)) {
      const where = index === 0 ? 'the first segment' : last ? 'the last segment (trailing /)' : `segment ${index + 1}`;
      throw new InvalidKeyError(`${where} of the name is empty`);
    }
    if ((segment === '.' || segment === '..') && !(partial && last)) {
      throw new InvalidKeyError(`'${segment}' is not allowed as a name segment`);
    }
  });
}

/** Parses `<tag>:<name>`; throws {@link InvalidKeyError} saying exactly what is wrong. Does not check that the tag is registered. */
export function parseKey(raw: string): ConfigKey {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidKeyError('key is empty');
  const { tag, rest } = splitTag(raw, 'key');
  if (rest.length === 0) throw new InvalidKeyError(`key '${printable(raw)}' has an empty name: expected '<tag>:<name>'`);
  checkName(rest, false);
  return { tag, name: rest, raw: `${tag}:${rest}` };
}

/** Parses a list prefix: `<tag>:` followed by the start of a name, e.g. `paramconfig:db/` or `tenantconfig:pl`. */
export function parseKeyPrefix(raw: string): KeyPrefix {
  if (raw.length === 0) throw new InvalidKeyError('prefix is empty');
  const { tag, rest } = splitTag(raw, 'prefix');
  if (rest.length > 0) checkName(rest, true);
  return { tag, namePrefix: rest, raw: `${tag}:${rest}` };
}

export function keyMatchesPrefix(key: ConfigKey, prefix: KeyPrefix): boolean {
  return key.tag === prefix.tag && key.name.startsWith(prefix.namePrefix);
}

/** Keeps error messages one line and free of control characters. */
function printable(s: string): string {
  const cut = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
