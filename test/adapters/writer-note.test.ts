import fc from 'fast-check';
import { commentOf, escapeComment, MAX_DESCRIPTION_CHARS, unescapeComment, writerNote, writerOf } from '../../adapters/ssm/writer-note';
import { MAX_COMMENT_LENGTH } from '../../core/item';

const UUID = '3f2a6c1e-8b7d-4e0a-9c55-0d1e2f3a4b5c';

describe('writer note (Parameter Store Description)', () => {
  it('writes the old format when there is no comment, and reads it back', () => {
    const note = writerNote(UUID, 3);

    expect(note).toBe(`tenant-config updatedBy=${UUID} version=3`);
    expect(writerOf(3, note)).toBe(UUID);
    expect(commentOf(3, note)).toBeUndefined();
  });

  it('treats an empty comment as none', () => {
    expect(writerNote(UUID, 1, '')).toBe(`tenant-config updatedBy=${UUID} version=1`);
  });

  it('reads notes written before comments existed', () => {
    const old = 'tenant-config updatedBy=user%40example.com version=7';

    expect(writerOf(7, old)).toBe('user@example.com');
    expect(commentOf(7, old)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['plain', 'raise the pool size'],
    ['spaces', '  leading, inner  and trailing  '],
    ['percent signs', '50% rollout, %20 is not a space, 100%'],
    ['newlines and tabs', 'line one\nline two\r\n\tindented'],
    ['emoji and other scripts', 'ship it 🚀👍🏽 — Größe, 設定, مرحبا'],
    ['control characters', 'bell\u0007 nul\u0000 del\u007f nel\u0085'],
    ['Unicode spaces', 'no\u00a0break, ideographic\u3000space, line\u2028separator'],
    ['note-like text', 'tenant-config updatedBy=mallory version=99 comment=x'],
  ])('round-trips a comment with %s', (_what, comment) => {
    const note = writerNote(UUID, 12, comment);

    expect(note.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS);
    // Only the note's own separators are whitespace; no control character gets through.
    expect(note.split(' ')).toHaveLength(4);
    expect(note).not.toMatch(/[\p{Cc}\u0085\u00a0\u2028\u3000]/u);
    expect(writerOf(12, note)).toBe(UUID);
    expect(commentOf(12, note)).toBe(comment);
  });

  it('escapes minimally: only %, whitespace and control characters', () => {
    expect(escapeComment('a b%c\nd🚀é')).toBe('a%20b%25c%0Ad🚀é');
    expect(unescapeComment('a%20b%25c%0Ad🚀é')).toBe('a b%c\nd🚀é');
    expect(unescapeComment('%E0%A4%A')).toBeUndefined();
  });

  it(`fits a comment of ${MAX_COMMENT_LENGTH} spaces in 1024 characters, cutting a long subject instead`, () => {
    const spaces = ' '.repeat(MAX_COMMENT_LENGTH);
    const longSubject = 'u'.repeat(1000);

    const note = writerNote(longSubject, 123456, spaces);

    expect(note.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS);
    expect(commentOf(123456, note)).toBe(spaces);
    // The cut subject is still a prefix of the writer (no escape was split here).
    expect(longSubject.startsWith(writerOf(123456, note))).toBe(true);
  });

  it(`fits ${MAX_COMMENT_LENGTH} characters of every kind next to a subject of 190 characters, uncut`, () => {
    const subject = 's'.repeat(190);
    for (const c of [' ', '%', '\n', '\u0001', 'x', '🚀']) {
      const comment = c.repeat(MAX_COMMENT_LENGTH / c.length);
      const note = writerNote(subject, Number.MAX_SAFE_INTEGER, comment);

      expect(note.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS);
      expect(writerOf(Number.MAX_SAFE_INTEGER, note)).toBe(subject);
      expect(commentOf(Number.MAX_SAFE_INTEGER, note)).toBe(comment);
    }
  });

  it('cuts, at a whole character, a comment whose escapes cannot fit (256 ideographic spaces), and keeps the writer', () => {
    const comment = '\u3000'.repeat(MAX_COMMENT_LENGTH);

    const note = writerNote(UUID, 5, comment);

    expect(note.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS);
    expect(writerOf(5, note)).toBe(UUID);
    const kept = commentOf(5, note)!;
    expect(kept.length).toBeGreaterThan(90);
    expect(comment.startsWith(kept)).toBe(true);
  });

  it('ignores the writer and the comment of a stale note (another version’s)', () => {
    const note = writerNote('alice', 4, 'set by alice');

    expect(commentOf(5, note)).toBeUndefined();
    expect(writerOf(5, note, 'arn:aws:iam::123456789012:user/bob')).toBe('arn:aws:iam::123456789012:user/bob');
    expect(writerOf(5, note, 'N/A')).toBe('unknown');
  });

  it('reads no comment from a Description that is not our note, or from a broken escape', () => {
    expect(commentOf(1, undefined)).toBeUndefined();
    expect(commentOf(1, 'set by hand')).toBeUndefined();
    expect(commentOf(1, 'tenant-config updatedBy=alice version=1 comment=bad%E2%82')).toBeUndefined();
    expect(writerOf(1, 'tenant-config updatedBy=alice version=1 comment=bad%E2%82')).toBe('alice');
    expect(commentOf(1, 'tenant-config updatedBy=alice version=1 comment=two words')).toBeUndefined();
  });

  it('round-trips any comment of at most MAX_COMMENT_LENGTH code points with any writer (property)', () => {
    fc.assert(
      fc.property(
        // Any code points, lone surrogates included.
        fc.string({ unit: 'binary', maxLength: MAX_COMMENT_LENGTH }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 100_000 }),
        (comment, writer, version) => {
          const note = writerNote(writer, version, comment);
          expect(note.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS);
          expect(commentOf(version, note)).toBe(comment === '' ? undefined : comment);
          expect(writerOf(version, note)).toBe(writer);
        },
      ),
    );
  });
});
