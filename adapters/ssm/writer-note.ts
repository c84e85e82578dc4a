/**
 * Who wrote a version, kept in the parameter's Description (the only free-text field
 * Parameter Store versions carry): `tenant-config updatedBy=<sub, URI-encoded> version=<n>`.
 *
 * The version is part of the note because Parameter Store carries an omitted
 * Description over from the previous version: a later write by another tool (CLI,
 * console) would otherwise appear to be by our last writer. A note whose version is
 * not the version it sits on is stale and ignored.
 */
const NOTE = /^tenant-config updatedBy=(\S+) version=(\d+)$/;
/** Description is limited to 1024 characters; subjects are far shorter in practice (Cognito: a UUID). */
const MAX_SUBJECT_CHARS = 900;

export function writerNote(updatedBy: string, version: number): string {
  const subject = encodeURIComponent(updatedBy);
  return `tenant-config updatedBy=${subject.length > MAX_SUBJECT_CHARS ? subject.slice(0, MAX_SUBJECT_CHARS) : subject} version=${version}`;
}

/**
 * The writer of `version`: our note when it is about this version, else Parameter
 * Store's `LastModifiedUser` (an IAM ARN on AWS; moto reports 'N/A'), else 'unknown'.
 */
export function writerOf(version: number, description?: string, lastModifiedUser?: string): string {
  const note = description ? NOTE.exec(description) : null;
  if (note && Number(note[2]) === version) {
    try {
      return decodeURIComponent(note[1]);
    } catch {
      // a truncated escape: fall through to what Parameter Store knows
    }
  }
  return lastModifiedUser && lastModifiedUser !== 'N/A' ? lastModifiedUser : 'unknown';
}
