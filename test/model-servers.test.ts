import Anthropic, { APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { startDemoModelServer } from '../cli/demo-model/demo-model-server';
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
