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
