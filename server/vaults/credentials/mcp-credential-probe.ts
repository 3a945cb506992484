import type {
  BetaManagedAgentsMCPProbe,
  BetaManagedAgentsRefreshHTTPResponse,
} from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { captureHttpResponse } from './captured-http-response';
import { disconnectMcpClient, mcpConnection, withOperationSignal } from '../../../common/mcp-connection';

/** The MCP methods a probe sends, in order: what a session's MCP client does first on every server. */
type ProbeMethod = 'initialize' | 'tools/list';

/**
 * What a probe found: the token works (`accepted`), the server refused it (`rejected`: HTTP 401 or 403), or the probe
 * could not tell (`inconclusive`: the server could not be reached, timed out, failed otherwise or broke the protocol).
 * `failure` names the failing MCP method with the server's HTTP error response, scrubbed.
 */
export type McpProbeResult =
  | { outcome: 'accepted' }
  | { outcome: 'rejected'; status: 401 | 403; failure: BetaManagedAgentsMCPProbe }
  | { outcome: 'inconclusive'; failure: BetaManagedAgentsMCPProbe };

/** What one probe needs. */
export interface McpProbeInput {
  /** The credential's `mcp_server_url`: an http(s) URL without user info, as the credential schema requires. */
  url: string;
  /** The access token, sent only as `Authorization: Bearer`; it never appears in the result. */
  accessToken: string;
  /** Deadline of the whole probe. */
  timeoutMs: number;
  /** Other secrets to scrub from captured bodies (the refresh token, the client secret). */
  otherSecrets: ReadonlyArray<string | null>;
}

/** The answer to one of the probe's requests: its status and, for an error, the response as captured. */
interface CapturedAnswer {
  status: number;
  captured: Promise<BetaManagedAgentsRefreshHTTPResponse> | null;
}

/**
 * Probes an MCP server with a bearer token as a session's MCP client would use it: the official MCP SDK client over
 * streamable HTTP, connected by `mcpConnection` as the worker's `withMcpClient` connects, sends `initialize` (and
 * `notifications/initialized`), then `tools/list`, then ends its MCP session. The step that fails is reported with its request's error response, if any.
 */
export async function probeMcpServer(input: McpProbeInput): Promise<McpProbeResult> {
  const url = new URL(input.url);
  const deadline = AbortSignal.timeout(input.timeoutMs);
  let step: ProbeMethod = 'initialize';
  /**
   * The answer to the probe's latest POST (its messages), set when it arrives and cleared when the next POST starts, so
   * when a step fails it is the failing request's own answer (an error response captured from a clone before the
   * transport reads the original), or `undefined` when that request got none.
   */
  let last: CapturedAnswer | undefined;
  const secrets = [input.accessToken, ...input.otherSecrets];
  const { client, transport } = mcpConnection(url, input.accessToken, async (target, init) => {
    // The optional GET stream may be refused without harm: only the POSTs are tracked.
    const tracked = init?.method === 'POST';
    if (tracked) last = undefined;
    const response = await fetch(target, { ...init, signal: withOperationSignal(init?.signal, deadline) });
    if (tracked) {
      last = response.ok
        ? { status: response.status, captured: null }
        : { status: response.status, captured: captureHttpResponse(response.clone(), secrets) };
    }
    return response;
  });
  try {
    await client.connect(transport, { signal: deadline, timeout: input.timeoutMs });
    step = 'tools/list';
    await client.listTools(undefined, { signal: deadline, timeout: input.timeoutMs });
    return { outcome: 'accepted' };
  } catch {
    const answer = last;
    if (answer === undefined || answer.captured === null) {
      return { outcome: 'inconclusive', failure: { method: step, http_response: null } };
    }
    const failure: BetaManagedAgentsMCPProbe = { method: step, http_response: await answer.captured };
    if (answer.status === 401 || answer.status === 403) return { outcome: 'rejected', status: answer.status, failure };
    return { outcome: 'inconclusive', failure };
  } finally {
    await disconnectMcpClient(client, transport, deadline);
  }
}
