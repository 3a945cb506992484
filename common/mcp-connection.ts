import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** How Keel names itself to MCP servers. */
const CLIENT_INFO = { name: 'keel', version: '0.1.0' };

/** How long ending a server's MCP session may take before the client simply disconnects. */
const TERMINATE_SESSION_WAIT_MS = 2_000;

/**
 * An MCP client and its Streamable HTTP transport to `url`, as the worker's MCP calls and the server's credential
 * probe both connect: the bearer `token` on every request (none when `null`), every request sent through `fetch`
 * (which joins the operation's signal), and no reconnection of the optional server-sent stream.
 */
export function mcpConnection(
  url: URL,
  token: string | null,
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>,
): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(url, {
    ...(token === null ? {} : { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
    fetch,
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1_000,
      maxReconnectionDelay: 1_000,
      reconnectionDelayGrowFactor: 1,
    },
  });
  return { client: new Client(CLIENT_INFO), transport };
}

/** `requestSignal` (a request's own, when it has one) joined with `operationSignal` (the whole operation's). */
export function withOperationSignal(
  requestSignal: AbortSignal | null | undefined,
  operationSignal: AbortSignal,
): AbortSignal {
  return requestSignal === null || requestSignal === undefined
    ? operationSignal
    : AbortSignal.any([requestSignal, operationSignal]);
}

/**
 * Ends the server's MCP session (a `DELETE`, when the server gave one and nothing was aborted), waiting at most
 * `TERMINATE_SESSION_WAIT_MS`, then closes the client, which aborts whatever request is still open. Used by the
 * worker's MCP calls and the server's credential probe alike.
 */
export async function disconnectMcpClient(
  client: Client,
  transport: StreamableHTTPClientTransport,
  signal: AbortSignal,
): Promise<void> {
  if (transport.sessionId !== undefined && !signal.aborted) {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, TERMINATE_SESSION_WAIT_MS);
    });
    await Promise.race([transport.terminateSession().catch(() => undefined), waited]);
    clearTimeout(timer);
  }
  await client.close().catch(() => undefined);
}
