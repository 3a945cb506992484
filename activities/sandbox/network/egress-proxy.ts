import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';

import type { SecretSubstitution } from '../../../common/credentials';
import { isHostAllowed } from '../../../common/network-policy';
import { isHostLocalAddress, notHostLocalLookup, refusingLookup } from '../../outbound-addresses';
import type { SandboxNetworking } from '../../../common/sandbox';
import { hostHeader, parseAbsoluteHttpUri, parseConnectAuthority } from './proxy-target';
import type { ProxyTarget } from './proxy-target';
import type { SandboxCa } from './sandbox-ca';
import { substituteBody, substituteHeaders, substitutionsFor } from './secret-substitution';

/** What the proxy knows of a sandbox: its networking, and the ids of its `environment_variable` credentials. */
export interface SandboxClient {
  networking: SandboxNetworking;
  credentialIds: string[];
}

/** The sandbox a connection comes from (by its source address), or `undefined` for a stranger. */
export type NetworkingLookup = (remoteAddress: string) => Promise<SandboxClient | undefined>;

/** The secrets of credentials, read from the store for one request (see `EnvironmentSecretResolver`). */
export type SubstitutionLookup = (credentialIds: string[]) => Promise<SecretSubstitution[]>;

/** Where the proxy listens and how it learns each client's policy. */
export interface EgressProxyOptions {
  /** The address to listen on: the limited network's gateway, so only its containers (and the host) reach it. */
  host: string;
  /** `0` (the default) takes a free port, so several workers on one machine never compete for one. */
  port?: number;
  networkingOf: NetworkingLookup;
  /** Where the secrets of a sandbox's credentials come from; without it no placeholder is ever substituted. */
  substitutionsOf?: SubstitutionLookup;
  /**
   * Opening https: a `CONNECT` to a host where one of the sandbox's credentials may be substituted is answered by the
   * proxy itself, with a certificate for the host signed by `ca` (which such sandboxes trust), and each request in it
   * is sent on over https, verified against `upstreamCa` (PEM certificates; Node's bundled roots when absent).
   * Without it tunnels are never opened.
   */
  interception?: { ca: SandboxCa; upstreamCa?: string[] };
}

/** Most bytes of a request body the proxy holds to substitute placeholders in it. */
const MAX_SUBSTITUTED_BODY_BYTES = 8 * 1024 * 1024;

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
  const networkings = new WeakMap<object, Promise<SandboxClient | undefined>>();
  const clientOf = (socket: net.Socket): Promise<SandboxClient | undefined> => {
    let known = networkings.get(socket);
    if (known === undefined) {
      known = options.networkingOf(plainAddress(socket.remoteAddress ?? '')).catch(() => undefined);
      networkings.set(socket, known);
    }
    return known;
  };
  const refusal = async (socket: net.Socket, destination: ProxyTarget): Promise<string | undefined> => {
    const client = await clientOf(socket);
    if (client === undefined) return 'this connection does not come from a Keel sandbox that may use the network';
    const { networking } = client;
    if (networking.type === 'unrestricted' && isThisHost(destination.host)) {
      return `${hostHeader(destination, 0)} is this host, which no sandbox may reach`;
    }
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
  // The requests of opened (intercepted) tunnels: each TLS socket knows its destination and its sandbox's socket.
  const opened = new WeakMap<object, { destination: ProxyTarget; sandbox: net.Socket }>();
  const insideTunnels = http.createServer();
  insideTunnels.on('clientError', (_error, socket: Duplex) => socket.destroy());
  insideTunnels.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const tunnel = opened.get(request.socket);
    if (tunnel === undefined) return answer(response, 500, 'lost track of this tunnel');
    void relay(request, response, tunnel.destination, request.url ?? '/', tunnel.sandbox, true);
  });

  async function tunnel(request: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const destination = parseConnectAuthority(request.url ?? '');
    if (destination === undefined) return answerRaw(client, 400, 'expected CONNECT host:port');
    const refused = await refusal(request.socket, destination);
    if (refused !== undefined) return answerRaw(client, 403, refused);
    const sandbox = await clientOf(request.socket);
    if (options.interception !== undefined) {
      const substitutions = await substitutionsOfClient(sandbox, destination.host);
      if (substitutions === 'unavailable') return answerRaw(client, 502, "could not read this sandbox's vault secrets");
      if (substitutions.length > 0) return open(request.socket, client, head, destination, options.interception.ca);
    }
    const networking = sandbox?.networking;
    const upstream = net.connect({
      host: destination.host,
      port: destination.port,
      ...addressGuard(destination.host, networking),
    });
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
    await relay(request, response, destination, destination.path, request.socket, false);
  }

  /**
   * Answers a `CONNECT` itself: TLS with a certificate for the destination signed by Keel's sandbox CA, and the
   * requests inside go to `insideTunnels` (then `relay`, over https).
   */
  function open(sandbox: net.Socket, client: Duplex, head: Buffer, destination: ProxyTarget, ca: SandboxCa): void {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) client.unshift(head);
    const leaf = ca.leafFor(destination.host);
    const secure = new tls.TLSSocket(client, {
      isServer: true,
      key: leaf.key,
      cert: leaf.cert,
      ALPNProtocols: ['http/1.1'],
    });
    track(secure);
    secure.on('error', () => secure.destroy());
    opened.set(secure, { destination, sandbox });
    insideTunnels.emit('connection', secure);
  }

  /**
   * Sends a request on to `destination` (over https for an opened tunnel), with the sandbox's secrets substituted
   * where its credentials allow, and streams the answer back.
   */
  async function relay(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    destination: ProxyTarget,
    path: string,
    sandbox: net.Socket,
    secure: boolean,
  ): Promise<void> {
    const client = await clientOf(sandbox);
    const substitutions = await substitutionsOfClient(client, destination.host);
    if (substitutions === 'unavailable') return answer(response, 502, "could not read this sandbox's vault secrets");
    let headers = endToEndHeaders(request.headers);
    headers.host = hostHeader(destination, secure ? 443 : 80);
    headers = substituteHeaders(headers, substitutions);
    let body: Buffer | undefined;
    if (substitutions.some((substitution) => substitution.body)) {
      body = await readBody(request, MAX_SUBSTITUTED_BODY_BYTES);
      if (body === undefined) {
        return answer(response, 413, `a body to substitute secrets in is over ${MAX_SUBSTITUTED_BODY_BYTES} bytes`);
      }
      body = substituteBody(body, substitutions);
      headers['content-length'] = String(body.length);
    }
    const common = {
      host: destination.host,
      port: destination.port,
      ...addressGuard(destination.host, client?.networking),
      method: request.method ?? 'GET',
      path,
      headers,
      agent: false as const,
      timeout: CONNECT_TIMEOUT_MS,
    };
    const upstreamCa = options.interception?.upstreamCa;
    const upstream = secure
      ? https.request({
          ...common,
          ...(net.isIP(destination.host) === 0 ? { servername: destination.host } : {}),
          ...(upstreamCa === undefined ? {} : { ca: upstreamCa }),
        })
      : http.request(common);
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
    if (body === undefined) request.pipe(upstream);
    else upstream.end(body);
  }

  /** The substitutions for a request of `client` to `host`, read now (none without credentials). */
  async function substitutionsOfClient(
    client: SandboxClient | undefined,
    host: string,
  ): Promise<SecretSubstitution[] | 'unavailable'> {
    if (client === undefined || client.credentialIds.length === 0 || options.substitutionsOf === undefined) return [];
    try {
      return substitutionsFor(await options.substitutionsOf(client.credentialIds), host);
    } catch {
      return 'unavailable';
    }
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
 * literal was listed explicitly and is connected to as it is. An `unrestricted` sandbox (behind the proxy for its vault
 * secrets) listed nothing: its names must not resolve to any address of this host either.
 */
function addressGuard(host: string, networking: SandboxNetworking | undefined): { lookup?: LookupFunction } {
  if (net.isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0) return {};
  return { lookup: networking?.type === 'unrestricted' ? notThisHostLookup : notHostLocalLookup };
}

/** Whether `address` (an IP literal) is loopback, link-local or one of this machine's own interface addresses. */
function isThisHost(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (net.isIP(bare) === 0) return false;
  if (isHostLocalAddress(bare)) return true;
  const plain = plainAddress(bare);
  return Object.values(networkInterfaces()).some((entries) =>
    (entries ?? []).some((entry) => entry.address.toLowerCase() === plain),
  );
}

const notThisHostLookup = refusingLookup(isThisHost, 'this host (refused for an unrestricted sandbox)');

/** The whole body of `request`, or `undefined` (the request drained) when it is over `maxBytes` or breaks off. */
function readBody(request: http.IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= maxBytes ? Buffer.concat(chunks) : undefined));
    request.on('error', () => resolve(undefined));
  });
}
