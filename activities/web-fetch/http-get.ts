import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

import { isNonPublicAddress, NonPublicAddressError } from './non-public-address';

/** What `web_fetch` sends: a plain GET that names itself, prefers text and never carries a credential or cookie. */
const REQUEST_HEADERS = {
  'user-agent': 'Keel-web_fetch/0.1',
  accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5',
  'accept-encoding': 'gzip, deflate, br',
};

/** Options of one `httpGet`. */
export interface HttpGetOptions {
  /** Aborts the request and the reading of its body (the deadline or the Activity's cancellation). */
  signal: AbortSignal;
  /** Refuse to connect to a host that is or resolves to a non-public address (checked at connect time). */
  blockPrivateAddresses: boolean;
}

/**
 * Sends one GET (no redirect followed, no connection pooling) and resolves with the response once its headers have
 * arrived. With `blockPrivateAddresses` the address is checked where the socket connects, so a DNS answer that
 * changes between a check and the connection cannot slip through; it rejects with `NonPublicAddressError`.
 */
export function httpGet(url: URL, options: HttpGetOptions): Promise<IncomingMessage> {
  if (options.blockPrivateAddresses && isNonPublicAddress(url.hostname)) {
    return Promise.reject(new NonPublicAddressError(url.hostname, url.hostname.replace(/^\[(.*)\]$/, '$1')));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, {
      method: 'GET',
      headers: REQUEST_HEADERS,
      agent: false,
      signal: options.signal,
      ...(options.blockPrivateAddresses ? { lookup: publicOnlyLookup } : {}),
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

/** A DNS lookup for sockets that fails with `NonPublicAddressError` when any address of the host is not public. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error !== null) {
      callback(error, '', 0);
      return;
    }
    const blocked = addresses.find((address) => isNonPublicAddress(address.address));
    const first = addresses[0];
    if (blocked !== undefined) callback(new NonPublicAddressError(hostname, blocked.address), '', 0);
    else if (options.all === true) callback(null, addresses);
    else if (first === undefined) callback(new Error(`${hostname} has no address`), '', 0);
    else callback(null, first.address, first.family);
  });
};

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
