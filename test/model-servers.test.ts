import Anthropic, { APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { startDemoModelServer } from '../cli/demo-model/demo-model-server';
import { thinkingSignature } from '../cli/demo-model/messages-wire';
import type { MessagesRequest } from '../cli/demo-model/messages-wire';
import { estimateInputTokens } from '../cli/demo-model/prompt-blocks';
import { ScriptedModelServer } from './scripted-model-server';

const bashTool = {
  name: 'bash',
  description: 'Run a shell command',
  input_schema: { type: 'object' as const, properties: { command: { type: 'string' } }, required: ['command'] },
};

function clientFor(baseURL: string): Anthropic {
  return new Anthropic({ baseURL, apiKey: 'test', maxRetries: 0 });
}

function ask(text: string): { model: string; max_tokens: number; messages: Anthropic.MessageParam[] } {
  return { model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: text }] };
}

// Estimates a request body as the server does, from the JSON that crosses the wire.
function wireTokens(body: Anthropic.MessageCreateParams): number {
  return estimateInputTokens(JSON.parse(JSON.stringify(body)) as MessagesRequest);
}

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('ScriptedModelServer', () => {
  it('streams a text reply as several text deltas that the SDK reassembles into an end_turn message', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'text', text: 'Hello from the scripted model, streamed in several chunks.' });
    const deltas: string[] = [];
    const stream = clientFor(server.baseUrl).messages.stream(ask('hi'));
    stream.on('text', (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe('Hello from the scripted model, streamed in several chunks.');
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      stop_reason: 'end_turn',
    });
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(server.requests[0]?.body.messages[0]?.content).toBe('hi');
    expect(server.remaining()).toBe(0);
    await server.close();
  });

  it('streams a tool_use reply whose input the SDK rebuilds from partial input_json_delta chunks', async () => {
    const server = await ScriptedModelServer.start();
    const input = { command: 'ls -la /workspace && echo "done"', timeout: 30, nested: { list: [1, 2, 3] } };
    server.enqueue({ kind: 'tool_use', name: 'bash', input, text: 'Listing files.', id: 'toolu_fixed' });
    const partials: string[] = [];
    const stream = clientFor(server.baseUrl).messages.stream({ ...ask('list'), tools: [bashTool] });
    stream.on('inputJson', (partial) => partials.push(partial));
    const message = await stream.finalMessage();
    expect(partials.filter((partial) => partial !== '').length).toBeGreaterThan(2);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Listing files.' });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', id: 'toolu_fixed', name: 'bash', input });
    await server.close();
  });

  it('answers a non-stream create with JSON holding several tool_use blocks', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({
      kind: 'tool_uses',
      calls: [
        { name: 'read', input: { path: 'a' } },
        { name: 'read', input: { path: 'b' } },
      ],
    });
    const message = await clientFor(server.baseUrl).messages.create(ask('read both'));
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.map((block) => (block.type === 'tool_use' ? block.input : undefined))).toEqual([
      { path: 'a' },
      { path: 'b' },
    ]);
    await server.close();
  });

  it('uses the queue first and then the respond function', async () => {
    const server = await ScriptedModelServer.start({ respond: () => ({ kind: 'text', text: 'from respond' }) });
    server.enqueue({ kind: 'text', text: 'from queue' });
    const client = clientFor(server.baseUrl);
    const first = await client.messages.create(ask('one'));
    const second = await client.messages.create(ask('two'));
    expect([first.content[0], second.content[0]]).toMatchObject([{ text: 'from queue' }, { text: 'from respond' }]);
    await server.close();
  });

  it('answers a scripted 429 with retry-after so the SDK raises RateLimitError carrying the header', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'error', status: 429, message: 'slow down', retryAfterSeconds: 7 });
    const error: unknown = await clientFor(server.baseUrl)
      .messages.stream(ask('hi'))
      .finalMessage()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers.get('retry-after')).toBe('7');
    expect((error as RateLimitError).type).toBe('rate_limit_error');
    expect((error as RateLimitError).apiMessage).toBe('slow down');
    await server.close();
  });

  it('answers a scripted 400 and a body missing max_tokens with BadRequestError naming the field', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'error', status: 400, message: 'messages.0.content: bad' });
    const client = clientFor(server.baseUrl);
    await expect(client.messages.create(ask('hi'))).rejects.toBeInstanceOf(BadRequestError);
    const { max_tokens: _omitted, ...withoutMaxTokens } = ask('hi');
    const error: unknown = await client.messages
      .create(withoutMaxTokens as Anthropic.MessageCreateParamsNonStreaming)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).apiMessage).toMatch(/^max_tokens:/);
    expect(server.requests).toHaveLength(1);
    await server.close();
  });

  it('fails loudly when the script runs out: a 500 naming the request, and close() rejects', async () => {
    const server = await ScriptedModelServer.start();
    const error: unknown = await clientFor(server.baseUrl)
      .messages.create(ask('unexpected turn'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).apiMessage).toMatch(
      /script ran out at request #1 \(last user text: "unexpected turn"\)/,
    );
    await expect(server.close()).rejects.toThrow(/script ran out at request #1/);
  });

  it('hangs after message_start until the client aborts, then the request rejects promptly and no response stays open', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const stream = clientFor(server.baseUrl).messages.stream(ask('wait'), { signal: controller.signal });
    let started = false;
    stream.on('streamEvent', (event) => (started ||= event.type === 'message_start'));
    await waitUntil(() => started);
    const abortedAt = Date.now();
    controller.abort();
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - abortedAt).toBeLessThan(500);
    await waitUntil(() => server.pendingResponses() === 0);
    await server.close();
  });

  it('notices a non-stream hang and a delayed reply being aborted, and leaves no response open', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'hang' }, { kind: 'text', text: 'late', delayMs: 60_000 });
    const client = clientFor(server.baseUrl);
    const controller = new AbortController();
    const hanging = client.messages
      .create(ask('one'), { signal: controller.signal })
      .catch((caught: unknown) => caught);
    const delayed = client.messages
      .stream(ask('two'), { signal: controller.signal })
      .finalMessage()
      .catch((caught: unknown) => caught);
    await waitUntil(() => server.pendingResponses() === 2);
    controller.abort();
    expect(await hanging).toBeInstanceOf(Error);
    expect(await delayed).toBeInstanceOf(APIUserAbortError);
    await waitUntil(() => server.pendingResponses() === 0);
    await server.close();
  });

  it('ends a hanging or delayed connection at once on close()', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'hang' }, { kind: 'text', text: 'late', delayMs: 60_000 });
    const client = clientFor(server.baseUrl);
    const hanging = client.messages.create(ask('one')).catch((caught: unknown) => caught);
    const delayed = client.messages.create(ask('two')).catch((caught: unknown) => caught);
    await waitUntil(() => server.requests.length === 2);
    const closingAt = Date.now();
    await server.close();
    expect(Date.now() - closingAt).toBeLessThan(500);
    expect(await hanging).toBeInstanceOf(Error);
    expect(await delayed).toBeInstanceOf(Error);
    expect(server.pendingResponses()).toBe(0);
  });
});

describe('ScriptedModelServer context window', () => {
  const longQuestion = 'Tell me about this. '.repeat(300); // About 1,500 tokens.

  it('refuses a prompt over the window with the API 400, records it, and keeps the scripted reply for the next request', async () => {
    const server = await ScriptedModelServer.start({ contextWindowTokens: 1000 });
    server.enqueue({ kind: 'text', text: 'short answer' });
    const client = clientFor(server.baseUrl);
    const error: unknown = await client.messages.create(ask(longQuestion)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    const tokens = wireTokens(ask(longQuestion));
    expect(tokens).toBeGreaterThan(1000);
    expect((error as BadRequestError).status).toBe(400);
    expect((error as BadRequestError).error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: `prompt is too long: ${tokens} tokens > 1000 maximum` },
    });
    expect(server.requests).toHaveLength(1);
    expect(server.refusedForContextWindow).toEqual([server.requests[0]]);
    expect(server.requests[0]).toMatchObject({
      inputTokens: tokens,
      refusal: expect.stringMatching(/^prompt is too long/),
    });
    expect(server.remaining()).toBe(1);
    const answered = await client.messages.stream(ask('short question')).finalMessage();
    expect(answered.content[0]).toMatchObject({ type: 'text', text: 'short answer' });
    expect(server.maxInputTokensSeen).toBe(wireTokens(ask('short question')));
    expect(server.maxInputTokensSeen).toBeLessThanOrEqual(1000);
    await server.close();
  });

  it('refuses a streamed request too, and lets the window be changed or removed later', async () => {
    const server = await ScriptedModelServer.start();
    server.setContextWindow(500);
    server.enqueue({ kind: 'text', text: 'now it fits' });
    const client = clientFor(server.baseUrl);
    const refused: unknown = await client.messages
      .stream(ask(longQuestion))
      .finalMessage()
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).apiMessage).toMatch(/^prompt is too long: \d+ tokens > 500 maximum$/);
    server.setContextWindow(undefined);
    const answered = await client.messages.stream(ask(longQuestion)).finalMessage();
    expect(answered.content[0]).toMatchObject({ text: 'now it fits' });
    expect(server.refusedForContextWindow).toHaveLength(1);
    expect(server.maxInputTokensSeen).toBe(wireTokens(ask(longQuestion)));
    expect(() => server.setContextWindow(0)).toThrow(RangeError);
    await server.close();
  });
});

describe('ScriptedModelServer prompt caching', () => {
  const stableSystem = 'You are a careful agent. Follow the house rules. '.repeat(120); // About 1,500 tokens.

  function cachedRequest(messages: Anthropic.MessageParam[]): Anthropic.MessageCreateParamsNonStreaming {
    return {
      model: 'claude-test',
      max_tokens: 1024,
      tools: [{ ...bashTool, cache_control: { type: 'ephemeral' } }],
      system: [{ type: 'text', text: stableSystem, cache_control: { type: 'ephemeral' } }],
      messages,
    };
  }

  // A user message whose one text block carries a cache breakpoint, as a harness marks the newest turn.
  function markedUserMessage(text: string): Anthropic.MessageParam {
    return { role: 'user', content: [{ type: 'text', text, cache_control: { type: 'ephemeral' } }] };
  }

  it('reports a cache write, then a read of the previous prefix plus a write of the new turn, and sums the totals', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'text', text: 'first answer' }, { kind: 'text', text: 'second answer' });
    const client = clientFor(server.baseUrl);
    const firstRequest = cachedRequest([markedUserMessage('first question')]);
    const starts: Anthropic.Usage[] = [];
    const first = await client.messages
      .stream(firstRequest)
      .on('streamEvent', (event) => {
        if (event.type === 'message_start') starts.push(event.message.usage);
      })
      .finalMessage();
    const firstTotal = wireTokens(firstRequest);
    expect(first.usage).toMatchObject({
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: firstTotal,
      input_tokens: 0,
    });
    expect(first.usage.cache_creation).toEqual({ ephemeral_5m_input_tokens: firstTotal, ephemeral_1h_input_tokens: 0 });
    expect(starts[0]?.cache_creation_input_tokens).toBe(firstTotal);

    // The first question comes back as a plain string: the same prompt as its marked text block, so the prefix hits.
    const secondRequest = cachedRequest([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      markedUserMessage('second question'),
    ]);
    const second = await client.messages.create(secondRequest);
    const secondTotal = wireTokens(secondRequest);
    expect(second.usage).toMatchObject({
      cache_read_input_tokens: firstTotal,
      cache_creation_input_tokens: secondTotal - firstTotal,
      input_tokens: 0,
    });
    expect(server.requests[1]?.usage?.cacheReadInputTokens).toBe(firstTotal);
    expect(server.cacheTotals()).toEqual({
      inputTokens: 0,
      cacheReadInputTokens: firstTotal,
      cacheCreationInputTokens: secondTotal,
    });
    server.clearPromptCache();
    server.enqueue({ kind: 'text', text: 'third answer' });
    const afterExpiry = await client.messages.create(secondRequest);
    expect(afterExpiry.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: secondTotal });
    await server.close();
  });

  it('counts a prompt without breakpoints as plain input', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'text', text: 'answer' });
    const message = await clientFor(server.baseUrl).messages.create(ask('no caching here'));
    expect(message.usage).toMatchObject({
      input_tokens: wireTokens(ask('no caching here')),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    expect(server.cacheTotals().inputTokens).toBe(message.usage.input_tokens);
    await server.close();
  });

  it('refuses five cache_control blocks with the API 400 and uses no scripted reply', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'text', text: 'unused' });
    const content = ['a', 'b', 'c', 'd'].map((text) => ({
      type: 'text' as const,
      text,
      cache_control: { type: 'ephemeral' as const },
    }));
    const error: unknown = await clientFor(server.baseUrl)
      .messages.create(cachedRequest([{ role: 'user', content }]))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).type).toBe('invalid_request_error');
    expect((error as BadRequestError).apiMessage).toBe(
      'A maximum of 4 blocks with cache_control may be provided. Found 6.',
    );
    expect(server.requests[0]?.refusal).toMatch(/^A maximum of 4 blocks/);
    expect(server.remaining()).toBe(1);
    await server.close();
  });
});

describe('ScriptedModelServer thinking', () => {
  const reasoning = 'The user wants the files listed; the bash tool can do that with ls, so I will call it now.';
  const thinkingOn = { type: 'enabled', budget_tokens: 1024 } as const;

  it('streams a thinking block as thinking_delta chunks and one signature_delta before the text and the tool_use', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'ls' }, text: 'Listing.', thinking: reasoning });
    const deltas: string[] = [];
    const events: Anthropic.RawMessageStreamEvent[] = [];
    const stream = clientFor(server.baseUrl).messages.stream({
      ...ask('list'),
      max_tokens: 4096,
      thinking: thinkingOn,
      tools: [bashTool],
    });
    stream.on('thinking', (delta) => deltas.push(delta)).on('streamEvent', (event) => events.push(event));
    const message = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe(reasoning);
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(message.content[0]).toEqual({
      type: 'thinking',
      thinking: reasoning,
      signature: thinkingSignature(reasoning),
    });
    expect(thinkingSignature(reasoning)).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const firstBlockEvents = events.filter((event) => 'index' in event && event.index === 0);
    expect(firstBlockEvents[0]).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    });
    expect(firstBlockEvents.at(-2)).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'signature_delta', signature: thinkingSignature(reasoning) },
    });
    expect(firstBlockEvents.at(-1)).toEqual({ type: 'content_block_stop', index: 0 });
    await server.close();
  });

  it('returns a thinking block first in a non-stream text reply', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue({ kind: 'text', text: 'Four.', thinking: 'Two plus two is four.' });
    const message = await clientFor(server.baseUrl).messages.create({
      ...ask('2+2?'),
      max_tokens: 4096,
      thinking: thinkingOn,
    });
    expect(message.content).toMatchObject([
      { type: 'thinking', thinking: 'Two plus two is four.' },
      { type: 'text', text: 'Four.' },
    ]);
    await server.close();
  });

  it('refuses a tool-use loop that dropped its thinking block, and answers once the block is passed back', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'ls' }, thinking: reasoning },
      { kind: 'text', text: 'There are two files.' },
    );
    const client = clientFor(server.baseUrl);
    const request = { ...ask('list'), max_tokens: 4096, thinking: thinkingOn, tools: [bashTool] };
    const first = await client.messages.create(request);
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    const toolResult: Anthropic.MessageParam = {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: toolUse?.type === 'tool_use' ? toolUse.id : '', content: 'a b' }],
    };
    const withoutThinking = first.content.filter((block) => block.type !== 'thinking');
    const error: unknown = await client.messages
      .create({
        ...request,
        messages: [...request.messages, { role: 'assistant', content: withoutThinking }, toolResult],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).type).toBe('invalid_request_error');
    expect((error as BadRequestError).apiMessage).toMatch(
      /^messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`\. When `thinking` is enabled, a final `assistant` message must start with a thinking block/,
    );
    expect(server.remaining()).toBe(1);
    const followUp = await client.messages.create({
      ...request,
      messages: [...request.messages, { role: 'assistant', content: first.content }, toolResult],
    });
    expect(followUp.content[0]).toMatchObject({ type: 'text', text: 'There are two files.' });
    await server.close();
  });

  it('accepts the dropped thinking block when the request has thinking off', async () => {
    const server = await ScriptedModelServer.start();
    server.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'ls' }, thinking: reasoning },
      { kind: 'text', text: 'Done.' },
    );
    const client = clientFor(server.baseUrl);
    const request = { ...ask('list'), tools: [bashTool] };
    const first = await client.messages.create(request);
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    const followUp = await client.messages.create({
      ...request,
      messages: [
        ...request.messages,
        { role: 'assistant', content: first.content.filter((block) => block.type !== 'thinking') },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: toolUse?.type === 'tool_use' ? toolUse.id : '', content: 'a' }],
        },
      ],
    });
    expect(followUp.content[0]).toMatchObject({ text: 'Done.' });
    await server.close();
  });
});

describe('startDemoModelServer', () => {
  it('answers "run: echo hi" with a bash tool_use, then summarises the tool_result with an end_turn text', async () => {
    const demo = await startDemoModelServer({ eventDelayMs: 0 });
    const client = clientFor(demo.baseUrl);
    const request = { ...ask('please run: echo hi\nthanks'), tools: [bashTool] };
    const first = await client.messages.stream(request).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'bash', input: { command: 'echo hi' } });
    const followUp = await client.messages.create({
      ...request,
      messages: [
        ...request.messages,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: toolUse?.type === 'tool_use' ? toolUse.id : '', content: 'hi\n' },
          ],
        },
      ],
    });
    expect(followUp.stop_reason).toBe('end_turn');
    expect(followUp.content[0]).toMatchObject({ type: 'text', text: 'The command printed:\nhi' });
    await demo.close();
  });

  it('echoes plain text as streamed deltas, and declines "run:" when no bash tool is offered', async () => {
    const demo = await startDemoModelServer({});
    const client = clientFor(demo.baseUrl);
    const deltas: string[] = [];
    const echoed = await client.messages
      .stream(ask('hello there demo model'))
      .on('text', (delta) => deltas.push(delta))
      .finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(echoed.content[0]).toMatchObject({ type: 'text', text: 'You said: hello there demo model' });
    const declined = await client.messages.create(ask('run: rm -rf /tmp/x'));
    expect(declined.stop_reason).toBe('end_turn');
    expect(declined.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('cannot run') });
    await demo.close();
  });
});
