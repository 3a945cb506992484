import type { McpServerRef } from '../../common/mcp';

/**
 * How messages name an MCP server: its name and its URL without user info, query or fragment, since a URL may carry
 * a secret there and messages end up in events and history.
 */
export function describeMcpServer(server: McpServerRef): string {
  let shownUrl: string;
  try {
    const url = new URL(server.url);
    shownUrl = `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    shownUrl = 'an invalid URL';
  }
  return `MCP server "${server.name}" (${shownUrl})`;
}
