/**
 * Who wrote a version, and the writer's comment on it, kept in the parameter's Description
 * (the only free-text field Parameter Store versions carry):
 * `tenant-config updatedBy=<sub, URI-encoded> version=<n>[ comment=<comment, escaped>]`.
 *
 * The version is part of the note because Parameter Store carries an omitted
 * Description over from the previous version: a later write by another tool (CLI,
 * console) would otherwise appear to be by our last writer, with our last comment. A
 * note whose version is not the version it sits on is stale: its writer and its
 * comment are ignored. Notes written before comments existed have no `comment=` part
 * and read as versions without a comment.
 *
 * The comment is escaped minimally, so that a comment of MAX_COMMENT_LENGTH characters fits
 * the Description's 1024 characters beside the rest of the note: `%`, whitespace and control
 * characters become their UTF-8 percent-encoding (a space is `%20`), every other character,
 * emoji included, is kept as it is. The note's fields are thus free of whitespace.
 */
const NOTE = /^tenant-config updatedBy=(\S+) version=(\d+)(?: comment=(\S*))?$/;
/** Parameter Store's limit on a Description. */
export const MAX_DESCRIPTION_CHARS = 1024;
/** Subjects are far shorter in practice (Cognito: a UUID); a longer one is cut (and then not shown, see {@link writerOf}). */
const MAX_SUBJECT_CHARS = 900;
/**
 * What the subject keeps however long the comment. Any comment of ASCII characters fits beside
 * a subject of 190 characters (768 escaped characters at most); only a comment of many non-ASCII spaces or control characters
 * (up to 9 characters each escaped) can exceed that, and is then cut (at a character) instead.
 */
const MIN_SUBJECT_CHARS = 128;
/** What gets escaped in a comment: the escape character itself, whitespace (Unicode's) and control characters. */
const ESCAPED = /[%\s\p{Cc}]/gu;

/** `%`, whitespace and control characters percent-encoded (UTF-8), the rest as is. */
export function escapeComment(comment: string): string {
  return comment.replace(ESCAPED, (c) => encodeURIComponent(c));
}

/** The inverse of {@link escapeComment}; undefined for text that is not a well-formed escape. */
export function unescapeComment(escaped: string): string | undefined {
  try {
    return decodeURIComponent(escaped);
  } catch {
    return undefined;
  }
}

/**
 * The Description for `version`, at most {@link MAX_DESCRIPTION_CHARS} characters. An empty
 * comment is no comment. The subject is cut to leave the comment room (it keeps at least
 * {@link MIN_SUBJECT_CHARS}); a comment that still does not fit is cut, at a character, to
 * what does: {@link commentOf} then reads that beginning of it.
 */
export function writerNote(updatedBy: string, version: number, comment?: string): string {
  const head = 'tenant-config updatedBy=';
  const versionPart = ` version=${version}`;
  const subject = encodeURIComponent(updatedBy);
  const room = MAX_DESCRIPTION_CHARS - head.length - versionPart.length;
  let commentPart = comment ? ` comment=${escapeComment(comment)}` : '';
  const subjectChars = Math.min(subject.length, MAX_SUBJECT_CHARS, Math.max(MIN_SUBJECT_CHARS, room - commentPart.length));
  if (commentPart.length > room - subjectChars) commentPart = commentPartWithin(comment!, room - subjectChars);
  return `${head}${subject.slice(0, subjectChars)}${versionPart}${commentPart}`;
}

/**
 * The writer of `version`: our note when it is about this version, else Parameter
 * Store's `LastModifiedUser` (an IAM ARN on AWS; moto reports 'N/A'), else 'unknown'.
 */
export function writerOf(version: number, description?: string, lastModifiedUser?: string): string {
  const note = noteFor(version, description);
  if (note) {
    try {
      return decodeURIComponent(note[1]);
    } catch {
      // a truncated escape: fall through to what Parameter Store knows
    }
  }
  return lastModifiedUser && lastModifiedUser !== 'N/A' ? lastModifiedUser : 'unknown';
}

/** The comment of `version`: from our note when it is about this version and carries one, else none. */
export function commentOf(version: number, description?: string): string | undefined {
  const escaped = noteFor(version, description)?.[3];
  return escaped ? unescapeComment(escaped) : undefined;
}

function noteFor(version: number, description: string | undefined): RegExpExecArray | undefined {
  const note = description ? NOTE.exec(description) : null;
  return note && Number(note[2]) === version ? note : undefined;
}

/** ` comment=<escaped>` for the longest beginning of `comment`, whole characters, that fits `max` characters. */
function commentPartWithin(comment: string, max: number): string {
  let part = ' comment=';
  for (const c of comment) {
    const escaped = escapeComment(c);
    if (part.length + escaped.length > max) break;
    part += escaped;
  }
  return part.length <= max ? part : '';
}
