import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

import type { McpFailure, McpServerRef } from '../../common/mcp';
import { describeMcpServer } from './describe-mcp-server';
import { redactSecret } from './redact-secret';

const REQUEST_TIMEOUT: number = ErrorCode.RequestTimeout;
const CONNECTION_CLOSED: number = ErrorCode.ConnectionClosed;

/** What `classifyMcpError` needs to know besides the error. */
export interface McpErrorContext {
  server: McpServerRef;
  /** The bearer token that was sent, only so it can be scrubbed from the message; `null` when none was found. */
  token: string | null;
  /** Whether the operation's own deadline fired. */
  timedOut: boolean;
  timeoutMs: number;
}

/**
 * Turns whatever the MCP client threw into one of the two `McpFailure` types: HTTP 401 / 403 is an authentication
 * failure, everything else (refused connection, DNS, timeout, an answer that is not MCP) a connection failure. The
 * message names the server and the cause, never the token.
 */
export function classifyMcpError(error: unknown, context: McpErrorContext): McpFailure {
  const server = describeMcpServer(context.server);
  const failure = (type: McpFailure['type'], message: string): McpFailure => ({
    type,
    message: redactSecret(message, context.token),
  });
  if (error instanceof StreamableHTTPError && (error.code === 401 || error.code === 403)) {
    const why =
      context.token === null
        ? 'no vault of the session holds a credential for this server'
        : 'the credential from the session vault was not accepted';
    return failure('mcp_authentication_failed_error', `${server} refused the request with HTTP ${error.code}: ${why}.`);
  }
  if (context.timedOut || (error instanceof McpError && error.code === REQUEST_TIMEOUT)) {
    return failure('mcp_connection_failed_error', `${server} did not answer within ${context.timeoutMs} ms.`);
  }
  if (error instanceof StreamableHTTPError) {
    const detail = error.message.replace(/^Streamable HTTP error: /, '');
    if (error.code === undefined || error.code < 0) {
      return failure('mcp_connection_failed_error', `${server} did not answer as an MCP server: ${detail}`);
    }
    return failure('mcp_connection_failed_error', `${server} answered HTTP ${error.code}: ${detail}`);
  }
  if (error instanceof McpError && error.code === CONNECTION_CLOSED) {
    return failure('mcp_connection_failed_error', `${server} closed the connection: ${error.message}`);
  }
  const networkCause = networkCauseOf(error);
  if (networkCause !== null) {
    return failure('mcp_connection_failed_error', `${server} could not be reached: ${networkCause}.`);
  }
  if (error instanceof Error && ['ZodError', '$ZodError', 'SyntaxError'].includes(error.name)) {
    return failure('mcp_connection_failed_error', `${server} did not answer as an MCP server: ${error.message}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return failure('mcp_connection_failed_error', `${server} failed: ${message}`);
}

/** The cause of a failed `fetch` (`ECONNREFUSED`, `ENOTFOUND`, a TLS error…), or `null` when `error` is not one. */
function networkCauseOf(error: unknown): string | null {
  if (!(error instanceof TypeError) || !(error.cause instanceof Error)) return null;
  const cause = error.cause as Error & { code?: unknown };
  const code = typeof cause.code === 'string' ? cause.code : null;
  if (code !== null && cause.message !== '' && !cause.message.includes(code)) return `${code} (${cause.message})`;
  return code ?? cause.message;
}
