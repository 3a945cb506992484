import { ApiErrorWithCode } from './api-error-with-code';

const MAX_KEYS = 16;
const MAX_KEY_LENGTH = 64;
const MAX_VALUE_LENGTH = 512;

/**
 * Checks metadata as the hosted API limits it for vaults and credentials (at most 16 pairs, keys 1 to 64 characters,
 * values up to 512) and returns it with sorted keys; a violation is the SDK's `invalid_metadata` 400.
 */
export function checkedResourceMetadata(metadata: Record<string, string>): Record<string, string> {
  const problem = (message: string) =>
    new ApiErrorWithCode('invalid_request_error', 'invalid_metadata', `metadata: ${message}`);
  const entries = Object.entries(metadata);
  if (entries.length > MAX_KEYS) throw problem(`at most ${MAX_KEYS} keys, got ${entries.length}`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw problem(`key "${key.slice(0, 80)}" must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    if (value.length > MAX_VALUE_LENGTH) throw problem(`the value of "${key}" is over ${MAX_VALUE_LENGTH} characters`);
  }
  return Object.fromEntries(entries.sort(([left], [right]) => (left < right ? -1 : 1)));
}

/** `current` with a metadata patch applied (a string upserts its key, `null` deletes it), then checked. */
export function patchedResourceMetadata(
  current: Record<string, string>,
  patch: Record<string, string | null> | null | undefined,
): Record<string, string> {
  const metadata: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === null) delete metadata[key];
    else metadata[key] = value;
  }
  return checkedResourceMetadata(metadata);
}
