import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message, StopReason } from '@anthropic-ai/sdk/resources/messages';
import {
  buildErrorBody,
  buildMessage,
  formatServerSentEvent,
  lastUserBlocks,
  lastUserText,
  messageToStreamEvents,
  newWireId,
  parseMessagesRequest,
} from './messages-wire';
import type { MessagesRequest, ReplyBlock } from './messages-wire';
import { estimateInputTokens } from './prompt-blocks';

/** A running demo model server; `baseUrl` has no `/v1`, as the SDK's `baseURL` takes it. */
export interface DemoModelServer {
  baseUrl: string;
  close(): Promise<void>;
}

const maximumBodyBytes = 32 * 1024 * 1024;

/** Answers an API error with the matching status, error body and optional extra headers (such as `retry-after`). */
export function sendErrorResponse(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(buildErrorBody(status, message));
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': newWireId('req'), ...headers });
  response.end(body);
}

/** Starts a 200 JSON response with the headers the API sends for a non-stream Message. */
export function startJsonResponse(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json', 'request-id': newWireId('req') });
}

/** Starts a 200 Server-Sent Events response with the headers the API sends for `stream: true`. */
export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': newWireId('req'),
  });
  response.flushHeaders();
}

// Waits the given time, or less if the client disconnects first, and clears its timer either way.
function waitUnlessClosed(response: ServerResponse, milliseconds: number): Promise<void> {
  return new Promise((resolve) => {
    if (milliseconds <= 0 || response.destroyed || response.writableEnded) return resolve();
    const finish = (): void => {
      clearTimeout(timer);
      response.off('close', finish);
      resolve();
    };
    const timer = setTimeout(finish, milliseconds);
    response.once('close', finish);
  });
}

/** Sends a Message as JSON or as the API's SSE event sequence (after any headers already sent), stopping if the client leaves. */
export async function sendMessageResponse(
  response: ServerResponse,
  message: Message,
  options: { stream: boolean; eventDelayMs?: number },
): Promise<void> {
  if (!options.stream) {
    if (!response.headersSent) startJsonResponse(response);
    response.end(JSON.stringify(message));
    return;
  }
  if (!response.headersSent) startEventStream(response);
  const [start, ...rest] = messageToStreamEvents(message);
  if (start) response.write(formatServerSentEvent(start));
  response.write(formatServerSentEvent({ type: 'ping' }));
  for (const event of rest) {
    await waitUnlessClosed(response, options.eventDelayMs ?? 0);
    if (response.destroyed) return;
    response.write(formatServerSentEvent(event));
  }
  response.end();
}

/** Reads and validates a POST /v1/messages request, answering 404 or 400 itself and returning undefined then. */
export async function receiveMessagesRequest(
  request: IncomingMessage,
  response: ServerResponse,
): Promise<MessagesRequest | undefined> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'POST' || path !== '/v1/messages') {
    sendErrorResponse(response, 404, `Not found: ${request.method ?? 'GET'} ${path}`);
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maximumBodyBytes) {
      sendErrorResponse(response, 413, 'body: Request exceeds the maximum allowed size');
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    sendErrorResponse(response, 400, 'body: Request body is not valid JSON');
    return undefined;
  }
  const parsed = parseMessagesRequest(body);
  if (!parsed.ok) {
    sendErrorResponse(response, 400, parsed.message);
    return undefined;
  }
  return parsed.request;
}

function toolResultText(block: Record<string, unknown>): string {
  if (typeof block.content === 'string') return block.content;
  if (!Array.isArray(block.content)) return '';
  return (block.content as Array<Record<string, unknown>>)
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** Decides the demo model's reply from the last user turn: summarise tool results, call bash for `run:`, else echo. */
export function demoModelReply(request: MessagesRequest): { blocks: ReplyBlock[]; stopReason: StopReason } {
  const toolResults = lastUserBlocks(request).filter((block) => block.type === 'tool_result');
  if (toolResults.length > 0) {
    const summaries = toolResults.map((block) => {
      const output = toolResultText(block).trimEnd();
      if (block.is_error === true) return `The command failed:\n${output}`;
      return output === '' ? 'The command finished with no output.' : `The command printed:\n${output}`;
    });
    return { blocks: [{ type: 'text', text: summaries.join('\n\n') }], stopReason: 'end_turn' };
  }
  const text = lastUserText(request);
  const command = /run:[ \t]*(\S[^\r\n]*)/.exec(text)?.[1]?.trim();
  if (command !== undefined) {
    if (!(request.tools ?? []).some((tool) => tool.name === 'bash')) {
      const refusal = `I cannot run \`${command}\`: no tool named bash is available to me.`;
      return { blocks: [{ type: 'text', text: refusal }], stopReason: 'end_turn' };
    }
    return {
      blocks: [
        { type: 'text', text: `I will run \`${command}\` with the bash tool.` },
        { type: 'tool_use', name: 'bash', input: { command } },
      ],
      stopReason: 'tool_use',
    };
  }
  return { blocks: [{ type: 'text', text: `You said: ${text}` }], stopReason: 'end_turn' };
}

async function handleDemoRequest(
  request: IncomingMessage,
  response: ServerResponse,
  eventDelayMs: number,
): Promise<void> {
  if (request.headers['x-api-key'] === undefined && request.headers.authorization === undefined) {
    request.resume();
    sendErrorResponse(response, 401, 'x-api-key header is required');
    return;
  }
  const messagesRequest = await receiveMessagesRequest(request, response);
  if (!messagesRequest) return;
  const reply = demoModelReply(messagesRequest);
  const message = buildMessage({
    model: messagesRequest.model,
    inputTokens: estimateInputTokens(messagesRequest),
    ...reply,
  });
  await sendMessageResponse(response, message, { stream: messagesRequest.stream === true, eventDelayMs });
}

/** Starts the bundled offline demo model on loopback (an ephemeral port unless given), for `keel up` without a key. */
export function startDemoModelServer(
  options: {
    port?: number;
    host?: string;
    eventDelayMs?: number;
  } = {},
): Promise<DemoModelServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    handleDemoRequest(request, response, options.eventDelayMs ?? 15).catch((error: unknown) => {
      if (!response.headersSent) sendErrorResponse(response, 500, `demo model failed: ${String(error)}`);
      else response.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        baseUrl: `http://${urlHost}:${port}`,
        close: () =>
          new Promise<void>((resolveClose, rejectClose) => {
            server.close((error) => (error ? rejectClose(error) : resolveClose()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
