import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

import { isIP } from 'node:net';
import { isNonPublicAddress, NonPublicAddressError, notHostLocalLookup, publicOnlyLookup } from '../outbound-addresses';

/** What `web_fetch` sends: a plain GET that names itself, prefers text and never carries a credential or cookie. */
const REQUEST_HEADERS = {
  'user-agent': 'Keel-web_fetch/0.1',
  accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5',
  'accept-encoding': 'gzip, deflate, br',
};

/**
 * Which addresses `httpGet` may connect to, checked where the socket connects: `public-only` (web_fetch under
 * unrestricted networking), `not-host-local` (under limited networking: a host *name* must not resolve to this host
 * or link-local; an IP literal was allowed explicitly), or `any`.
 */
export type AddressPolicy = 'public-only' | 'not-host-local' | 'any';

/** Options of one `httpGet`. */
export interface HttpGetOptions {
  /** Aborts the request and the reading of its body (the deadline or the Activity's cancellation). */
  signal: AbortSignal;
  addresses: AddressPolicy;
}

/**
 * Sends one GET (no redirect followed, no connection pooling) and resolves with the response once its headers have
 * arrived. The address policy is checked where the socket connects, so a DNS answer that changes between a check and
 * the connection cannot slip through; a refused address rejects with `NonPublicAddressError`.
 */
export function httpGet(url: URL, options: HttpGetOptions): Promise<IncomingMessage> {
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (options.addresses === 'public-only' && isNonPublicAddress(literal)) {
    return Promise.reject(new NonPublicAddressError(url.hostname, literal));
  }
  const lookup =
    options.addresses === 'public-only'
      ? publicOnlyLookup
      : options.addresses === 'not-host-local' && isIP(literal) === 0
        ? notHostLocalLookup
        : undefined;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, {
      method: 'GET',
      headers: REQUEST_HEADERS,
      agent: false,
      signal: options.signal,
      ...(lookup === undefined ? {} : { lookup }),
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

/**
 * The response body with its `content-encoding` undone (gzip, deflate, br), or `null` for an encoding `web_fetch`
 * cannot read. Decompressed bytes are what `readCapped` counts, so a small compressed body cannot blow up the worker.
 */
export function decodedBody(response: IncomingMessage): Readable | null {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const ignoreError = (): void => undefined;
  switch (encoding) {
    case '':
    case 'identity':
      return response;
    case 'gzip':
    case 'x-gzip':
      return pipeline(response, createGunzip(), ignoreError);
    case 'deflate':
      return pipeline(response, createInflate(), ignoreError);
    case 'br':
      return pipeline(response, createBrotliDecompress(), ignoreError);
    default:
      return null;
  }
}

/** Reads at most `maxBytes` of `body` and stops there: `truncated` says whether more was on its way. */
export async function readCapped(body: Readable, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (size + buffer.length > maxBytes) {
      chunks.push(buffer.subarray(0, maxBytes - size));
      body.destroy();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}
