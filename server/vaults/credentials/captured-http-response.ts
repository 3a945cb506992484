import type { BetaManagedAgentsRefreshHTTPResponse } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';

/** Longest `body` a captured response carries, in characters; past it the body is cut and `body_truncated` set. */
export const CAPTURED_BODY_MAX_CHARS = 2_048;

/** Most bytes read from a response body to capture it: enough to fill `CAPTURED_BODY_MAX_CHARS` after scrubbing. */
const CAPTURED_BODY_READ_BYTES = 64 * 1024;

/** What replaces a secret in a captured body. */
export const SCRUBBED = '[redacted]';

/** JSON string members and form or query fields whose value is a secret, whatever the secret is. */
const SECRET_JSON_MEMBER =
  /("(?:access_token|refresh_token|id_token|client_secret|token|assertion|password)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
const SECRET_FORM_FIELD = /\b(access_token|refresh_token|id_token|client_secret|assertion|password)=[^&\s"']*/gi;
const BEARER_VALUE = /\b(Bearer|Basic)\s+[\x21-\x7E]+/gi;

/**
 * A server's error response as the validation answer shows it: status, `Content-Type` and the body, scrubbed of
 * `secrets` (the tokens and client secret the request carried or the exchange returned), of any token-like JSON member
 * or form field and of `Authorization` values a server may echo back, then cut to `CAPTURED_BODY_MAX_CHARS`. Reads at
 * most `CAPTURED_BODY_READ_BYTES` of the body; scrubbing runs before the cut, so a secret is never half-shown.
 */
export async function captureHttpResponse(
  response: Response,
  secrets: ReadonlyArray<string | null>,
): Promise<BetaManagedAgentsRefreshHTTPResponse> {
  const { text, complete } = await readCapped(response, CAPTURED_BODY_READ_BYTES);
  const scrubbed = scrubSecrets(text, secrets);
  const truncated = !complete || scrubbed.length > CAPTURED_BODY_MAX_CHARS;
  return {
    status_code: response.status,
    content_type: response.headers.get('content-type') ?? '',
    body: scrubbed.slice(0, CAPTURED_BODY_MAX_CHARS),
    body_truncated: truncated,
  };
}

/** `text` with every occurrence of each of `secrets` and every token-like value replaced by `SCRUBBED`. */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | null>): string {
  let scrubbed = text;
  // Longest first, so a secret that contains another is replaced whole.
  const known = secrets.filter((secret): secret is string => secret !== null && secret.length > 0);
  for (const secret of known.sort((left, right) => right.length - left.length)) {
    // As sent, and as a URL or a form (`+` for a space) would carry it.
    const forms = new Set([secret, encodeURIComponent(secret), new URLSearchParams({ v: secret }).toString().slice(2)]);
    for (const form of forms) scrubbed = scrubbed.split(form).join(SCRUBBED);
  }
  return scrubbed
    .replace(SECRET_JSON_MEMBER, `$1"${SCRUBBED}"`)
    .replace(SECRET_FORM_FIELD, `$1=${SCRUBBED}`)
    .replace(BEARER_VALUE, `$1 ${SCRUBBED}`);
}

/** The body's text up to `maxBytes` (UTF-8), and whether that was all of it. A body that fails midway stops there. */
async function readCapped(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  if (response.body === null) return { text: '', complete: true };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // What arrived before the failure is still worth showing.
  } finally {
    if (!complete) await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, Math.min(bytes.length, maxBytes)));
  return { text, complete: complete && bytes.length <= maxBytes };
}
