import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/** The key AWS uses for a SecureString when the caller names none. */
export const DEFAULT_SECURE_STRING_KEY_ID = 'alias/aws/ssm';

/**
 * What a SecureString reads as without `WithDecryption`: an opaque base64 blob, as
 * KMS ciphertext is on AWS, so a client that forgets to decrypt sees it at once.
 * AES-256-GCM under a key derived from the KeyId; not a security boundary (the
 * local store keeps plain text in memory and in its data file, it is for development).
 */
export function localCiphertext(plaintext: string, keyId: string): string {
  const key = createHash('sha256').update(`local-parameter-store:${keyId}`).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), body]).toString('base64');
}
