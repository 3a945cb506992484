import type { CredentialResolver } from '../../common/credentials';

/** What the MCP Activities need from the worker: the credential resolver and optional limits. */
export interface McpActivityOptions {
  /** Resolves an MCP server's bearer token from the session's vaults, inside the Activity only. */
  credentials: CredentialResolver;
  /** Deadline of `listMcpTools`: connecting, initialising and every `tools/list` page. Default 30 s. */
  listTimeoutMs?: number;
  /** Deadline of `callMcpTool`: connecting, initialising and the `tools/call`. Default 120 s. */
  callTimeoutMs?: number;
  /** Cap on the UTF-8 bytes of a tool result's text; above it the head and tail are kept. Default 100 KB. */
  maxOutputBytes?: number;
  /** Most `tools/list` pages read from one server, so a server that keeps returning cursors cannot loop forever. */
  maxToolPages?: number;
}

/** `McpActivityOptions` with every default filled in. */
export type ResolvedMcpActivityOptions = Required<McpActivityOptions>;

/** Defaults of the optional `McpActivityOptions`. */
export const MCP_ACTIVITY_DEFAULTS = {
  listTimeoutMs: 30_000,
  callTimeoutMs: 120_000,
  maxOutputBytes: 100_000,
  maxToolPages: 100,
} as const;

/** Fills in the defaults; a non-positive limit is a wiring bug, so it throws. */
export function resolveMcpActivityOptions(options: McpActivityOptions): ResolvedMcpActivityOptions {
  const resolved: ResolvedMcpActivityOptions = {
    credentials: options.credentials,
    listTimeoutMs: options.listTimeoutMs ?? MCP_ACTIVITY_DEFAULTS.listTimeoutMs,
    callTimeoutMs: options.callTimeoutMs ?? MCP_ACTIVITY_DEFAULTS.callTimeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? MCP_ACTIVITY_DEFAULTS.maxOutputBytes,
    maxToolPages: options.maxToolPages ?? MCP_ACTIVITY_DEFAULTS.maxToolPages,
  };
  for (const name of ['listTimeoutMs', 'callTimeoutMs', 'maxOutputBytes', 'maxToolPages'] as const) {
    if (!(resolved[name] > 0))
      throw new RangeError(`MCP Activity option ${name} must be positive, got ${resolved[name]}.`);
  }
  return resolved;
}
