import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRepository } from './store/control-plane-store';

/** The SHA-256 of an API key, as the store keeps it. */
export function apiKeySha256(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random API key, in the form `keel up` generates. */
export function newApiKey(): string {
  return `keel_${randomBytes(24).toString('base64url')}`;
}

/**
 * Whether `given` is a key this server accepts: the configured key (compared in constant time), or an active key in
 * the control-plane store (looked up by its hash).
 */
export async function isAcceptedApiKey(given: string, configured: string, keys: ApiKeyRepository): Promise<boolean> {
  if (given === '') return false;
  const givenBytes = Buffer.from(given);
  const configuredBytes = Buffer.from(configured);
  if (givenBytes.length === configuredBytes.length && timingSafeEqual(givenBytes, configuredBytes)) return true;
  return (await keys.findActive(apiKeySha256(given))) !== null;
}
