/**
 * The form in which MCP server URLs are compared: scheme and host lower-case, no default port, no fragment and no
 * trailing slash, so `https://MCP.example.com:443/sse/` and `https://mcp.example.com/sse` name one server. A vault
 * holds one active credential per key, and the worker looks credentials up by it. Text that is not a URL is its own
 * key.
 */
export function mcpServerUrlKey(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const pathname = parsed.pathname.replace(/\/+$/, '');
  return `${parsed.protocol}//${parsed.host}${pathname}${parsed.search}`;
}
