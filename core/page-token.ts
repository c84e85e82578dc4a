import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidPageTokenError } from './errors';

/** What a list call needs to carry on where it stopped. */
export interface ListPosition {
  readonly tenant: string;
  /** The prefix the listing was asked for ('' = all tags). A token only continues the same listing. */
  readonly prefix: string;
  /** Index of the tag being listed, in registry order. */
  readonly tagIndex: number;
  /** The backend's own cursor within that tag. */
  readonly cursor?: string;
  /** The last key returned: a page cut short by defaults merged in continues after it (core/config-service.ts). */
  readonly afterKey?: string;
}

/**
 * Opaque `nextToken`s: the position is signed (HMAC-SHA256) with a server-side secret and
 * bound to the tenant and prefix, so a caller can neither forge one nor replay another
 * tenant's or another listing's token. All instances must share the secret.
 */
export class PageTokenCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (!secret || secret.length < 16) throw new Error('PAGE_TOKEN_SECRET must be at least 16 characters');
    this.key = Buffer.from(secret, 'utf8');
  }

  encode(position: ListPosition): string {
    const body = Buffer.from(JSON.stringify([position.tenant, position.prefix, position.tagIndex, position.cursor ?? null, position.afterKey ?? null]));
    return `${body.toString('base64url')}.${this.sign(body).toString('base64url')}`;
  }

  /** Decodes and checks a token for this tenant and prefix; anything else is {@link InvalidPageTokenError}. */
  decode(token: string, expected: { tenant: string; prefix: string }): ListPosition {
    const invalid = () =>
      new InvalidPageTokenError('nextToken is not valid for this listing: pass back the nextToken of the previous page unchanged, with the same prefix');
    if (typeof token !== 'string' || token.length > 4096 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw invalid();
    const [bodyPart, sigPart] = token.split('.');
    const body = Buffer.from(bodyPart, 'base64url');
    const sig = Buffer.from(sigPart, 'base64url');
    // Only the canonical encoding: base64url's last character has spare bits, which must not make a second valid token.
    if (body.toString('base64url') !== bodyPart || sig.toString('base64url') !== sigPart) throw invalid();
    const good = this.sign(body);
    if (sig.length !== good.length || !timingSafeEqual(sig, good)) throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw invalid();
    }
    // Four elements: a token issued before layers (no afterKey).
    if (!Array.isArray(parsed) || (parsed.length !== 4 && parsed.length !== 5)) throw invalid();
    const [tenant, prefix, tagIndex, cursor, afterKey = null] = parsed as [unknown, unknown, unknown, unknown, unknown];
    if (tenant !== expected.tenant || prefix !== expected.prefix) throw invalid();
    if (!Number.isInteger(tagIndex) || (tagIndex as number) < 0) throw invalid();
    if (cursor !== null && typeof cursor !== 'string') throw invalid();
    if (afterKey !== null && typeof afterKey !== 'string') throw invalid();
    return { tenant, prefix, tagIndex: tagIndex as number, cursor: cursor ?? undefined, afterKey: afterKey ?? undefined };
  }

  private sign(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update('tenantconfig-page-v1\n').update(body).digest();
  }
}
