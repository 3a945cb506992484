import { createHash } from 'node:crypto';

/** The content address of `body` under `prefix` (one of `BLOB_PREFIXES`): the prefix and the body's SHA-256. */
export function contentKey(prefix: string, body: Uint8Array | string): string {
  return `${prefix}${createHash('sha256').update(body).digest('hex')}`;
}
