import type { IncomingMessage } from 'node:http';
import { TextDecoder } from 'node:util';

import type { WebFetchInput, WebFetchResult } from '../../common/web-fetch';
import { cancellationError, deadlineSignal, whileHeartbeating } from '../activity-control';
import type { ActivityControl } from '../activity-control';
import { decodedBody, httpGet, readCapped } from './http-get';
import type { AddressPolicy } from './http-get';
import { NonPublicAddressError } from '../outbound-addresses';
import { decodeBody, htmlToReadableText, mediaTypeOf, sniffTextKind, textKindOf } from './response-to-text';
import { WEB_FETCH_MAX_REDIRECTS } from './web-fetch-options';
import type { ResolvedWebFetchActivityOptions } from './web-fetch-options';
import { webFetchRefusal } from './web-fetch-policy';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The `web_fetch` tool, run in the worker: fetches an http(s) URL that the session's networking and the tool's domain
 * filters allow (checked again at every redirect, at most `WEB_FETCH_MAX_REDIRECTS`), reads at most `maxBytes` of a
 * text body within `timeoutMs`, and returns it as text (HTML converted). Every refusal and failure is an `isError`
 * result the model can read; only the Activity's cancellation is thrown.
 */
export async function webFetch(
  input: WebFetchInput,
  options: ResolvedWebFetchActivityOptions,
  control: ActivityControl,
): Promise<WebFetchResult> {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return failure(`web_fetch refused "${input.url}": it is not an absolute URL.`);
  }
  const refusal = webFetchRefusal(url, input);
  if (refusal !== null) return failure(`web_fetch refused ${url.href}: ${refusal}`);
  const addresses: AddressPolicy =
    input.networking.type === 'limited' ? 'not-host-local' : options.blockPrivateAddresses ? 'public-only' : 'any';
  return whileHeartbeating(control, async () => {
    const { deadline, signal } = deadlineSignal(control, options.timeoutMs);
    let current = url;
    let response: IncomingMessage | undefined;
    try {
      for (let redirects = 0; ; redirects++) {
        response = await httpGet(current, { signal, addresses });
        const location = response.headers.location;
        if (!REDIRECT_STATUSES.has(response.statusCode ?? 0) || location === undefined) {
          return await readResponse(current, response, options);
        }
        response.destroy();
        if (redirects === WEB_FETCH_MAX_REDIRECTS) {
          return failure(`web_fetch stopped at ${current.href}: more than ${WEB_FETCH_MAX_REDIRECTS} redirects.`);
        }
        const next = URL.canParse(location, current.href) ? new URL(location, current) : null;
        if (next === null) return failure(`web_fetch: ${current.href} redirected to an invalid URL.`);
        const redirectRefusal = webFetchRefusal(next, input);
        if (redirectRefusal !== null) {
          return failure(`web_fetch refused the redirect from ${current.href} to ${next.href}: ${redirectRefusal}`);
        }
        current = next;
      }
    } catch (error) {
      if (control.signal?.aborted === true) throw cancellationError(control.signal);
      if (deadline.aborted) return failure(`web_fetch of ${current.href} timed out after ${options.timeoutMs} ms.`);
      if (error instanceof NonPublicAddressError) {
        return failure(
          `web_fetch refused ${current.href}: ${error.message}; the worker only fetches public addresses.`,
        );
      }
      return failure(`web_fetch could not fetch ${current.href}: ${describeNetworkError(error)}.`);
    } finally {
      response?.destroy();
    }
  });
}

/** Turns a final (non-redirect) response into the model's text, or refuses a body that is not text. */
async function readResponse(
  url: URL,
  response: IncomingMessage,
  options: ResolvedWebFetchActivityOptions,
): Promise<WebFetchResult> {
  const contentType = response.headers['content-type'];
  const declaredKind = contentType === undefined ? undefined : textKindOf(contentType);
  if (declaredKind === null) {
    return failure(
      `web_fetch refused ${url.href}: its content type ${mediaTypeOf(contentType ?? '')} is not text ` +
        '(web_fetch reads HTML, plain text, JSON, XML and similar text formats).',
    );
  }
  const body = decodedBody(response);
  if (body === null) {
    return failure(
      `web_fetch refused ${url.href}: its content encoding ${response.headers['content-encoding']} is unknown.`,
    );
  }
  const { bytes, truncated } = await readCapped(body, options.maxBytes);
  const kind = declaredKind ?? sniffTextKind(bytes);
  if (kind === null) return failure(`web_fetch refused ${url.href}: it has no content type and its body is not text.`);
  const decoded = decodeBody(bytes, contentType, truncated);
  const text = kind === 'html' ? htmlToReadableText(decoded, url) : decoded;
  const status = response.statusCode ?? 0;
  const lines = [
    `URL: ${url.href}`,
    `Status: ${status}${response.statusMessage === undefined ? '' : ` ${response.statusMessage}`}`,
    `Content-Type: ${contentType === undefined ? '(none)' : mediaTypeOf(contentType)}`,
    '',
    keepHead(text, options.maxOutputBytes),
  ];
  if (truncated) {
    lines.push('', `[web_fetch truncated the response: only its first ${options.maxBytes} bytes were read.]`);
  }
  return { output: lines.join('\n'), isError: status >= 400 };
}

/** Keeps the first `maxBytes` of `text` (whole characters) and says how much text was left out. */
function keepHead(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const head = new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, '');
  return `${head}\n[web_fetch truncated the text: ${bytes.length - Buffer.byteLength(head)} more bytes not shown.]`;
}

function failure(output: string): WebFetchResult {
  return { output, isError: true };
}

/** A network error as the model can act on it: its code (`ECONNREFUSED`, `ENOTFOUND`, a TLS code) and message. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && !error.message.includes(code)) return `${code} (${error.message})`;
  return error.message;
}
