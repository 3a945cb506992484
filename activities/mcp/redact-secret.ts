/** What replaces a secret in a message. */
export const REDACTED = '[redacted]';

/** Longest message an MCP failure carries; a server's error page can be large and says little past its start. */
export const MAX_FAILURE_MESSAGE_LENGTH = 1_000;

/**
 * Removes every occurrence of `secret` from `text` and shortens it, so a server that echoes the request (its
 * `Authorization` header among it) into an error body cannot leak the credential into a result or an event.
 */
export function redactSecret(text: string, secret: string | null): string {
  const redacted = secret === null || secret.length === 0 ? text : text.split(secret).join(REDACTED);
  if (redacted.length <= MAX_FAILURE_MESSAGE_LENGTH) return redacted;
  return `${redacted.slice(0, MAX_FAILURE_MESSAGE_LENGTH)}…`;
}

/**
 * `value` with `secret` replaced in every string inside it (any depth), without shortening anything: what a server
 * sent back (tool results, tool descriptions and schemas) never carries the credential into history or the model.
 */
export function scrubSecret<Value>(value: Value, secret: string | null): Value {
  if (secret === null || secret.length === 0) return value;
  const scrub = (item: unknown): unknown => {
    if (typeof item === 'string') return item.split(secret).join(REDACTED);
    if (Array.isArray(item)) return item.map(scrub);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(Object.entries(item).map(([key, entry]) => [scrub(key), scrub(entry)]));
    }
    return item;
  };
  return scrub(value) as Value;
}
