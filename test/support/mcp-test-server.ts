import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListToolsRequestSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** How the test server is set up. */
export interface McpTestServerOptions {
  /** The bearer token every request must carry; `setToken` changes it (a rotation). */
  token: string;
  /** The status a request without the right token gets. Default 401. */
  rejectStatus?: 401 | 403;
  /** When set, `tools/list` answers in pages of this many tools, with cursors. */
  toolsPageSize?: number;
}

/** A `tools/call` the server received, with the `Authorization` header it came with. */
export interface ReceivedMcpToolCall {
  name: string;
  arguments: Record<string, unknown>;
  authorization: string | undefined;
}

interface TestTool {
  name: string;
  description: string;
  shape: z.ZodRawShape;
  run: (input: Record<string, unknown>) => CallToolResult | Promise<CallToolResult>;
}

/** The tools the server offers: plain text, a tool error, a large output, mixed content and a slow tool. */
const TEST_TOOLS: TestTool[] = [
  {
    name: 'lookup_order',
    description: 'Looks up an order by id.',
    shape: { orderId: z.string() },
    run: (input) => ({ content: [{ type: 'text', text: `Order ${String(input.orderId)}: 2 items, shipped.` }] }),
  },
  {
    name: 'fail_tool',
    description: 'Always fails, as a tool.',
    shape: { reason: z.string().optional() },
    run: (input) => ({
      content: [
        { type: 'text', text: `fail_tool failed: ${typeof input.reason === 'string' ? input.reason : 'no reason'}` },
      ],
      isError: true,
    }),
  },
  {
    name: 'big_output',
    description: 'Returns `bytes` bytes of text: a head line, filler and a tail line.',
    shape: { bytes: z.number().int().positive() },
    run: (input) => {
      const filler = 'x'.repeat(Math.max(0, Number(input.bytes) - 20));
      return { content: [{ type: 'text', text: `HEAD-LINE\n${filler}\nTAIL-LINE` }] };
    },
  },
  {
    name: 'mixed_content',
    description: 'Returns text, an image, an embedded text resource, a binary resource and a resource link.',
    shape: {},
    run: () => ({
      content: [
        { type: 'text', text: 'plain text' },
        { type: 'image', data: Buffer.from('not really a png').toString('base64'), mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///notes.txt', mimeType: 'text/plain', text: 'notes body' } },
        { type: 'resource', resource: { uri: 'file:///blob.bin', mimeType: 'application/octet-stream', blob: 'AAAA' } },
        { type: 'resource_link', uri: 'https://example.com/doc', name: 'doc' },
      ],
    }),
  },
  {
    name: 'slow_tool',
    description: 'Answers after `ms` milliseconds.',
    shape: { ms: z.number().int().nonnegative() },
    run: async (input) => {
      await new Promise((resolve) => setTimeout(resolve, Number(input.ms)));
      return { content: [{ type: 'text', text: 'slow done' }] };
    },
  },
];

/**
 * A real MCP server (the official SDK's `McpServer` over streamable HTTP, with sessions) on loopback that demands
 * `Authorization: Bearer <token>`, for tests of the MCP Activities. It records every `Authorization` header it saw and
 * every tool call, so a test can check that the credential arrived.
 */
export class McpTestServer {
  /** The `Authorization` header of every HTTP request, in order (`undefined` when absent). */
  readonly authorizationHeaders: Array<string | undefined> = [];
  /** Every `tools/call` that passed the token check, in order. */
  readonly toolCalls: ReceivedMcpToolCall[] = [];
  private token: string;
  private readonly sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  private readonly httpServer: Server;

  private constructor(private readonly options: McpTestServerOptions) {
    this.token = options.token;
    this.httpServer = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
  }

  /** Starts a server on a free loopback port. */
  static async start(options: McpTestServerOptions): Promise<McpTestServer> {
    const server = new McpTestServer(options);
    await new Promise<void>((resolve, reject) => {
      server.httpServer.once('error', reject);
      server.httpServer.listen(0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  get url(): string {
    const { port } = this.httpServer.address() as AddressInfo;
    return `http://127.0.0.1:${port}/mcp`;
  }

  /** Changes the accepted token: requests with the old one are refused from now on. */
  setToken(token: string): void {
    this.token = token;
  }

  /** Number of MCP sessions still open (clients that did not end theirs). */
  get openSessionCount(): number {
    return this.sessions.size;
  }

  /** Closes every MCP session and the HTTP server, and waits until it no longer listens. */
  async stop(): Promise<void> {
    for (const { transport, server } of this.sessions.values()) {
      await transport.close();
      await server.close();
    }
    this.sessions.clear();
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.authorizationHeaders.push(request.headers.authorization);
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (request.headers.authorization !== `Bearer ${this.token}`) {
      const status = this.options.rejectStatus ?? 401;
      response
        .writeHead(status, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="mcp-test"' })
        .end(JSON.stringify({ error: status === 401 ? 'invalid_token' : 'forbidden' }));
      return;
    }
    const body = request.method === 'POST' ? await readJson(request) : undefined;
    this.recordToolCalls(body, request.headers.authorization);
    const sessionId = request.headers['mcp-session-id'];
    const session = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    if (session !== undefined) {
      await session.transport.handleRequest(request, response, body);
      return;
    }
    if (request.method === 'POST' && isInitializeRequest(body)) {
      const transport = await this.openSession();
      await transport.handleRequest(request, response, body);
      return;
    }
    response
      .writeHead(400, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid MCP session.' }, id: null }));
  }

  private async openSession(): Promise<StreamableHTTPServerTransport> {
    const server = this.createMcpServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        this.sessions.set(sessionId, { transport, server });
      },
      onsessionclosed: (sessionId) => {
        this.sessions.delete(sessionId);
      },
    });
    await server.connect(transport);
    return transport;
  }

  private createMcpServer(): McpServer {
    const server = new McpServer({ name: 'keel-mcp-test-server', version: '1.0.0' });
    for (const tool of TEST_TOOLS) {
      server.registerTool(tool.name, { description: tool.description, inputSchema: tool.shape }, (input) =>
        tool.run(input as Record<string, unknown>),
      );
    }
    const pageSize = this.options.toolsPageSize;
    if (pageSize !== undefined) {
      server.server.setRequestHandler(ListToolsRequestSchema, (request) => {
        const start = request.params?.cursor === undefined ? 0 : Number(request.params.cursor);
        const tools = TEST_TOOLS.slice(start, start + pageSize).map((tool) => ({
          name: tool.name,
          description: tool.description,
          inputSchema: z.toJSONSchema(z.object(tool.shape)) as { type: 'object'; [key: string]: unknown },
        }));
        const next = start + pageSize;
        return next < TEST_TOOLS.length ? { tools, nextCursor: String(next) } : { tools };
      });
    }
    return server;
  }

  private recordToolCalls(body: unknown, authorization: string | undefined): void {
    for (const message of Array.isArray(body) ? body : [body]) {
      if (!isToolCall(message)) continue;
      this.toolCalls.push({ name: message.params.name, arguments: message.params.arguments ?? {}, authorization });
    }
  }
}

function isToolCall(
  message: unknown,
): message is { method: 'tools/call'; params: { name: string; arguments?: Record<string, unknown> } } {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { method?: unknown }).method === 'tools/call' &&
    typeof (message as { params?: { name?: unknown } }).params?.name === 'string'
  );
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** Starts an `McpTestServer` on loopback; stop it with `stopMcpTestServer` (or its `stop`). */
export async function startMcpTestServer(options: McpTestServerOptions): Promise<McpTestServer> {
  return McpTestServer.start(options);
}

/** Stops a server started with `startMcpTestServer`; a no-op for `undefined`, so `afterEach` can call it blindly. */
export async function stopMcpTestServer(server: McpTestServer | undefined): Promise<void> {
  await server?.stop();
}
