import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import type { CallMcpToolInput, CallMcpToolResult } from '../../common/mcp';
import type { ActivityControl } from '../activity-control';
import { mcpResultToTextBlocks } from './mcp-content-to-text';
import type { ResolvedMcpActivityOptions } from './mcp-options';
import { withMcpClient } from './with-mcp-client';

/** Codes of the `McpError`s the SDK raises itself rather than reading them from the server's answer. */
const CLIENT_SIDE_ERROR_CODES: number[] = [ErrorCode.RequestTimeout, ErrorCode.ConnectionClosed];

/**
 * Calls one tool on an MCP server and returns its content as capped text blocks. A tool that ran and failed
 * (`isError`) and a JSON-RPC error the server answered (unknown tool, invalid arguments) are `ok: true, isError: true`
 * so the model can react; only a server that cannot be reached or refuses the credential is `ok: false`.
 */
export async function callMcpTool(
  input: CallMcpToolInput,
  options: ResolvedMcpActivityOptions,
  control: ActivityControl,
): Promise<CallMcpToolResult> {
  const settings = { credentials: options.credentials, timeoutMs: options.callTimeoutMs };
  const outcome = await withMcpClient(input, settings, control, async ({ client, requestOptions, redact }) => {
    try {
      const result = (await client.callTool(
        { name: input.toolName, arguments: input.input },
        undefined,
        requestOptions,
      )) as CallToolResult;
      return { content: mcpResultToTextBlocks(result, options.maxOutputBytes), isError: result.isError === true };
    } catch (error) {
      if (!isErrorAnsweredByServer(error)) throw error;
      return { content: [{ type: 'text' as const, text: redact(error.message) }], isError: true };
    }
  });
  return outcome.ok ? { ok: true, ...outcome.value } : outcome;
}

/** A JSON-RPC error response from the server, as opposed to one the client raised (a timeout, a closed connection). */
function isErrorAnsweredByServer(error: unknown): error is McpError {
  return error instanceof McpError && !CLIENT_SIDE_ERROR_CODES.includes(error.code);
}
