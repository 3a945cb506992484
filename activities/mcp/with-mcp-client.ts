import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';

import type { CredentialResolver } from '../../common/credentials';
import type { McpFailure, McpServerCallContext } from '../../common/mcp';
import { cancellationError, deadlineSignal, whileHeartbeating } from '../activity-control';
import type { ActivityControl } from '../activity-control';
import { classifyMcpError } from './classify-mcp-error';
import { describeMcpServer } from './describe-mcp-server';
import { redactSecret, scrubSecret } from './redact-secret';
import { CredentialRefreshError } from '../credentials/refresh-access-token';
import { SecretBoxError } from '../../common/secret-box';
import { disconnectMcpClient, mcpConnection, withOperationSignal } from '../../common/mcp-connection';

/** What an MCP Activity did: its value, or why the server could not be used. */
export type McpOutcome<Value> = { ok: true; value: Value } | { ok: false; error: McpFailure };

/** A connected, initialised client and the options every request on it must carry (deadline and cancellation). */
export interface McpConnection {
  client: Client;
  requestOptions: RequestOptions;
  /** Scrubs the bearer token from text the server sent, before it goes into a result. */
  redact: (text: string) => string;
}

/** Settings of one `withMcpClient` run. */
export interface McpConnectionSettings {
  credentials: CredentialResolver;
  /** Deadline of the whole run: connecting, initialising and `work`. */
  timeoutMs: number;
}

/**
 * Connects to an MCP server over streamable HTTP with the session's bearer token (resolved here, inside the Activity,
 * and sent only as the `Authorization` header), runs `work`, then ends the MCP session and disconnects. Heartbeats
 * while it waits; the Activity's cancellation aborts the HTTP requests and is rethrown; the deadline and every other
 * failure come back as an `McpFailure`.
 */
export async function withMcpClient<Value>(
  context: McpServerCallContext,
  settings: McpConnectionSettings,
  control: ActivityControl,
  work: (connection: McpConnection) => Promise<Value>,
): Promise<McpOutcome<Value>> {
  return whileHeartbeating(control, async () => {
    const url = parseServerUrl(context);
    if (!(url instanceof URL)) return { ok: false, error: url };
    let token: string | null;
    try {
      token = await settings.credentials.mcpBearerToken(context.vaultIds, context.server.url, context.workspaceId);
    } catch (error) {
      // A refresh the token endpoint refused, or a secret this worker's key cannot open: no retry helps, and the
      // session goes on without the server. Transient failures (network, 5xx, a busy store) are thrown and retried.
      const unusable = (error instanceof CredentialRefreshError && !error.retryable) || error instanceof SecretBoxError;
      if (!unusable) throw error;
      return {
        ok: false,
        error: {
          type: 'mcp_authentication_failed_error',
          message: `The vault credential for ${describeMcpServer(context.server)} could not be used: ${error.message}`,
        },
      };
    }
    if (isCancelled(control)) throw cancellationError(control.signal);
    const { deadline, signal } = deadlineSignal(control, settings.timeoutMs);
    const { client, transport } = mcpConnection(url, token, (input, init) =>
      fetch(input, { ...init, signal: withOperationSignal(init?.signal, signal) }),
    );
    try {
      await client.connect(transport, { signal, timeout: settings.timeoutMs });
      const requestOptions = { signal, timeout: settings.timeoutMs };
      const value = await work({ client, requestOptions, redact: (text) => redactSecret(text, token) });
      return { ok: true, value: scrubSecret(value, token) };
    } catch (error) {
      if (isCancelled(control)) throw cancellationError(control.signal);
      const failure = classifyMcpError(error, {
        server: context.server,
        token,
        timedOut: deadline.aborted,
        timeoutMs: settings.timeoutMs,
      });
      return { ok: false, error: failure };
    } finally {
      await disconnectMcpClient(client, transport, signal);
    }
  });
}

function isCancelled(control: ActivityControl): boolean {
  return control.signal?.aborted === true;
}

function parseServerUrl(context: McpServerCallContext): URL | McpFailure {
  const server = describeMcpServer(context.server);
  let url: URL;
  try {
    url = new URL(context.server.url);
  } catch {
    return { type: 'mcp_connection_failed_error', message: `${server} has a URL that cannot be parsed.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { type: 'mcp_connection_failed_error', message: `${server} must be an http or https URL.` };
  }
  return url;
}
