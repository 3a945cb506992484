import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The length of a secret key: AES-256 takes 32 bytes. */
export const SECRET_KEY_BYTES = 32;

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The prefix of every sealed value, so that a later format (a key id, another cipher) can be told apart. */
const FORMAT = 'v1';

/** A sealed value that does not open: a wrong key, a wrong context, or bytes changed since it was sealed. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * The 32-byte key encoded as `base64`, or `null` when it is not the base64 of exactly 32 bytes. The error never
 * repeats the text, since it is a secret.
 */
export function decodeSecretKey(base64: string): Uint8Array | null {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const key = Buffer.from(text, 'base64');
  if (key.length !== SECRET_KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    return null;
  }
  return new Uint8Array(key);
}

/** A new random secret key. */
export function generateSecretKey(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_KEY_BYTES));
}

/**
 * Encrypts `plaintext` with AES-256-GCM under `key` and a fresh random 96-bit IV, and returns printable text
 * (`v1.<iv>.<ciphertext>.<tag>`, base64url). `context` is bound as additional authenticated data (for example a
 * credential id and the field), so a sealed value copied to another row or column does not open there.
 */
export function sealSecret(key: Uint8Array, plaintext: string, context: string): string {
  requireKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [FORMAT, iv, ciphertext, tag]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Decrypts what `sealSecret` returned for the same `key` and `context`, or throws a `SecretBoxError`. */
export function openSecret(key: Uint8Array, sealed: string, context: string): string {
  requireKey(key);
  const [format, iv, ciphertext, tag, ...rest] = sealed.split('.');
  if (format !== FORMAT || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
    throw new SecretBoxError('Not a sealed secret of a known format.');
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError(
      'A sealed secret does not open: the secret key differs from the one that sealed it, or the value was changed.',
    );
  }
}

function requireKey(key: Uint8Array): void {
  if (key.length !== SECRET_KEY_BYTES) throw new SecretBoxError(`A secret key has ${SECRET_KEY_BYTES} bytes.`);
}
