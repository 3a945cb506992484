import http from 'node:http';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';

import { isHostAllowed } from '../../../common/network-policy';
import { notHostLocalLookup } from '../../outbound-addresses';
import type { SandboxNetworking } from '../../../common/sandbox';
import { hostHeader, parseAbsoluteHttpUri, parseConnectAuthority } from './proxy-target';
import type { ProxyTarget } from './proxy-target';

/** The networking of the sandbox a connection comes from (by its source address), or `undefined` for a stranger. */
export type NetworkingLookup = (remoteAddress: string) => Promise<SandboxNetworking | undefined>;

/** Where the proxy listens and how it learns each client's policy. */
export interface EgressProxyOptions {
  /** The address to listen on: the limited network's gateway, so only its containers (and the host) reach it. */
  host: string;
  /** `0` (the default) takes a free port, so several workers on one machine never compete for one. */
  port?: number;
  networkingOf: NetworkingLookup;
}

/** A running egress proxy. */
export interface EgressProxy {
  /** The proxy URL a container gets in `HTTP_PROXY` and `HTTPS_PROXY`. */
  readonly address: string;
  /** Stops listening and cuts every open connection and tunnel. */
  close: () => Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 10 * 60_000;
const HOP_BY_HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Starts Keel's egress proxy for `limited` sandboxes: HTTP CONNECT tunnels (for https and anything else over TCP) and
 * plain HTTP requests with an absolute `http://` URI, each allowed only when `isHostAllowed` says so for the
 * networking of the sandbox the connection comes from; anything else gets a 403 (or 400) whose body says why. The
 * proxy resolves names itself, so the sandbox needs no DNS. Its sockets do not keep the process alive.
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const networkings = new WeakMap<object, Promise<SandboxNetworking | undefined>>();
  const networkingOf = (socket: net.Socket): Promise<SandboxNetworking | undefined> => {
    let known = networkings.get(socket);
    if (known === undefined) {
      known = options.networkingOf(plainAddress(socket.remoteAddress ?? '')).catch(() => undefined);
      networkings.set(socket, known);
    }
    return known;
  };
  const refusal = async (socket: net.Socket, destination: ProxyTarget): Promise<string | undefined> => {
    const networking = await networkingOf(socket);
    if (networking === undefined) return 'this connection does not come from a Keel sandbox that may use the network';
    if (isHostAllowed(networking, destination.host, destination.port)) return undefined;
    return `${hostHeader(destination, 0)} is not an allowed host of this sandbox's environment (networking.allowed_hosts)`;
  };

  const server = http.createServer();
  server.on('connection', (socket: net.Socket) => {
    track(socket);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
  });
  server.on('clientError', (_error, socket: Duplex) => socket.destroy());
  server.on('connect', (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
    void tunnel(request, client, head);
  });
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    void forward(request, response);
  });

  async function tunnel(request: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const destination = parseConnectAuthority(request.url ?? '');
    if (destination === undefined) return answerRaw(client, 400, 'expected CONNECT host:port');
    const refused = await refusal(request.socket, destination);
    if (refused !== undefined) return answerRaw(client, 403, refused);
    const upstream = net.connect({ host: destination.host, port: destination.port, ...addressGuard(destination.host) });
    track(upstream);
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timed out')));
    let connected = false;
    upstream.on('error', (error) => {
      if (connected) client.destroy();
      else answerRaw(client, 502, unreachable(destination, error));
    });
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(IDLE_TIMEOUT_MS, () => upstream.destroy());
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  }

  async function forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const destination = parseAbsoluteHttpUri(request.url ?? '');
    if (destination === undefined) {
      return answer(response, 400, 'expected an absolute http:// URI (https goes through CONNECT)');
    }
    const refused = await refusal(request.socket, destination);
    if (refused !== undefined) return answer(response, 403, refused);
    const headers = endToEndHeaders(request.headers);
    headers.host = hostHeader(destination, 80);
    const upstream = http.request({
      host: destination.host,
      port: destination.port,
      ...addressGuard(destination.host),
      method: request.method ?? 'GET',
      path: destination.path,
      headers,
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    upstream.on('socket', track);
    upstream.on('timeout', () => upstream.destroy(new Error('no answer in time')));
    upstream.on('error', (error) => {
      if (!response.headersSent) answer(response, 502, unreachable(destination, error));
      else response.destroy();
    });
    request.on('error', () => upstream.destroy());
    response.on('close', () => upstream.destroy());
    upstream.on('response', (answerFromUpstream) => {
      answerFromUpstream.on('error', () => response.destroy());
      upstream.setTimeout(IDLE_TIMEOUT_MS);
      response.writeHead(answerFromUpstream.statusCode ?? 502, endToEndHeaders(answerFromUpstream.headers));
      answerFromUpstream.pipe(response);
    });
    request.pipe(upstream);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const bound = server.address() as net.AddressInfo;
  return {
    address: `http://${hostHeader({ host: bound.address, port: bound.port }, 0)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Headers a proxy passes on: without hop-by-hop ones, nor those the `Connection` header names. */
function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name) && !named.has(name)) kept[name] = value;
  }
  return kept;
}

function answer(response: http.ServerResponse, status: number, reason: string): void {
  const body = `Keel egress proxy: ${reason}\n`;
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

function answerRaw(client: Duplex, status: number, reason: string): void {
  const body = `Keel egress proxy: ${reason}\n`;
  client.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function unreachable(destination: ProxyTarget, error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return `could not reach ${hostHeader(destination, 0)}: ${code ?? error.message}`;
}

/** `::ffff:172.18.0.2` (an IPv4 client of a dual-stack socket) as `172.18.0.2`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The lookup for an allowed destination: a host *name* must not resolve to this host or link-local (DNS rebinding
 * would otherwise turn an allowed name into the worker's own Temporal or API port, or the metadata service); an IP
 * literal was listed explicitly and is connected to as it is.
 */
function addressGuard(host: string): { lookup?: LookupFunction } {
  return net.isIP(host.replace(/^\[(.*)\]$/, '$1')) === 0 ? { lookup: notHostLocalLookup } : {};
}
