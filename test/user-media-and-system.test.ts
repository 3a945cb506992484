import { toFile } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSessionEvents, rejection, sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;

/** A 1×1 PNG, as a real upload would carry it. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

async function sessionOn(model: string): Promise<string> {
  const agent = await client.beta.agents.create({ name: `media ${model}`, model, tools: [] });
  return (await client.beta.sessions.create({ agent: agent.id, environment_id: await environment() })).id;
}

let environmentId: string | undefined;
async function environment(): Promise<string> {
  environmentId ??= (await client.beta.environments.create({ name: 'media env', config: { type: 'cloud' } })).id;
  return environmentId;
}

function allEvents(sessionId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  return allSessionEvents(client, sessionId);
}

describe('user.message images and documents, and system.message (SDK 1.16 shapes)', () => {
  it('passes text, base64, URL and uploaded-file media to the model, and a system.message as a system turn that stays', async () => {
    const png = await client.beta.files.upload({ file: await toFile(PNG, 'dot.png', { type: 'image/png' }) });
    const pdf = await client.beta.files.upload({ file: await toFile(PDF, 'spec.pdf', { type: 'application/pdf' }) });
    const sessionId = await sessionOn('claude-opus-4-8');
    harness.model.enqueue({ kind: 'text', text: 'I see a dot.' }, { kind: 'text', text: 'Still here.' });
    const content = [
      { type: 'text' as const, text: 'What is in these?' },
      {
        type: 'image' as const,
        source: { type: 'base64' as const, media_type: 'image/png', data: PNG.toString('base64') },
      },
      { type: 'image' as const, source: { type: 'file' as const, file_id: png.id } },
      { type: 'image' as const, source: { type: 'url' as const, url: 'https://example.com/cat.jpg' } },
      { type: 'document' as const, source: { type: 'file' as const, file_id: pdf.id }, title: 'Spec' },
      {
        type: 'document' as const,
        source: { type: 'text' as const, media_type: 'text/plain' as const, data: 'plain notes' },
        context: 'notes from the meeting',
      },
    ];
    const sent = await client.beta.sessions.events.send(sessionId, {
      events: [
        { type: 'user.message', content },
        { type: 'system.message', content: [{ type: 'text', text: 'Answer in one short sentence.' }] },
      ],
    });
    expect(sent.data?.map((event) => event.type)).toEqual(['user.message', 'system.message']);
    const systemId = sent.data?.[1]?.id ?? '';
    expect(systemId).toMatch(/^sevt_/);

    const events = await untilIdleAfter(client, sessionId, sent.data?.[0]?.id);
    const logged = events.filter((event) => event.type === 'user.message' || event.type === 'system.message');
    expect(logged).toEqual([
      expect.objectContaining({ type: 'user.message', id: sent.data?.[0]?.id, content }),
      expect.objectContaining({
        type: 'system.message',
        id: systemId,
        content: [{ type: 'text', text: 'Answer in one short sentence.' }],
        processed_at: expect.any(String),
      }),
    ]);

    const request = harness.model.requests.at(-1)?.body;
    expect(request?.messages.map((message) => message.role)).toEqual(['user', 'system']);
    const blocks = request?.messages[0]?.content as Array<Record<string, unknown>>;
    expect(blocks.map((block) => block.type)).toEqual(['text', 'image', 'image', 'image', 'document', 'document']);
    // The uploaded files arrive as their content: the model provider has never seen Keel's file ids.
    expect(blocks[2]).toMatchObject({
      source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') },
    });
    expect(blocks[3]).toMatchObject({ source: { type: 'url', url: 'https://example.com/cat.jpg' } });
    expect(blocks[4]).toMatchObject({
      title: 'Spec',
      source: { type: 'base64', media_type: 'application/pdf', data: PDF.toString('base64') },
    });
    expect(blocks[5]).toMatchObject({
      context: 'notes from the meeting',
      source: { type: 'text', data: 'plain notes' },
    });
    expect(request?.messages[1]?.content).toEqual([{ type: 'text', text: 'Answer in one short sentence.' }]);

    // The system turn holds for later turns: the next request still carries it after the first user message.
    const second = await client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'And now?' }] }],
    });
    await untilIdleAfter(client, sessionId, second.data?.[0]?.id);
    const next = harness.model.requests.at(-1)?.body;
    expect(next?.messages.map((message) => message.role)).toEqual(['user', 'system', 'assistant', 'user']);
  });

  it('takes a system.message with a user.custom_tool_result: it follows the tool result in the conversation', async () => {
    const agent = await client.beta.agents.create({
      name: 'custom with system',
      model: 'claude-opus-4-8',
      tools: [
        {
          type: 'custom',
          name: 'lookup',
          description: 'Looks a word up.',
          input_schema: { type: 'object', properties: { word: { type: 'string' } } },
        },
      ],
    });
    const sessionId = (await client.beta.sessions.create({ agent: agent.id, environment_id: await environment() })).id;
    harness.model.enqueue({ kind: 'tool_use', name: 'lookup', input: { word: 'keel' } });
    const asked = await client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'look up keel' }] }],
    });
    const waiting = await untilIdleAfter(client, sessionId, asked.data?.[0]?.id);
    const use = waiting.find((event) => event.type === 'agent.custom_tool_use');
    expect(use).toBeDefined();
    harness.model.enqueue({ kind: 'text', text: 'a keel is the spine of a boat' });
    const answered = await client.beta.sessions.events.send(sessionId, {
      events: [
        {
          type: 'user.custom_tool_result',
          custom_tool_use_id: use?.id ?? '',
          content: [{ type: 'text', text: 'the spine of a boat' }],
        },
        { type: 'system.message', content: [{ type: 'text', text: 'Quote the tool result.' }] },
      ],
    });
    expect(answered.data?.map((event) => event.type)).toEqual(['user.custom_tool_result', 'system.message']);
    const events = await untilIdleAfter(client, sessionId, answered.data?.[0]?.id);
    const types = events.map((event) => event.type);
    expect(types.indexOf('system.message')).toBe(types.indexOf('user.custom_tool_result') + 1);
    const request = harness.model.requests.at(-1)?.body;
    expect(request?.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'system']);
    expect(JSON.stringify(request?.messages[2])).toContain('the spine of a boat');
    expect(request?.messages[3]?.content).toEqual([{ type: 'text', text: 'Quote the tool result.' }]);
  });

  it('refuses, naming the field and logging nothing, what the model cannot take', async () => {
    const text = await client.beta.files.upload({ file: await toFile(Buffer.from('just words'), 'words.txt') });
    const older = await sessionOn('claude-sonnet-4-5');
    const before = (await allEvents(older)).length;
    const message = { type: 'user.message' as const, content: [{ type: 'text' as const, text: 'hi' }] };
    const system = { type: 'system.message' as const, content: [{ type: 'text' as const, text: 'be brief' }] };

    const unsupported = await rejection(client.beta.sessions.events.send(older, { events: [message, system] }));
    expect(unsupported.status).toBe(400);
    expect(unsupported.message).toContain('events[1]');
    expect(unsupported.message).toContain('claude-sonnet-4-5 does not accept mid-conversation system messages');

    const newer = await sessionOn('claude-opus-4-8');
    const notLast = await rejection(client.beta.sessions.events.send(newer, { events: [message, system, message] }));
    expect(notLast.status).toBe(400);
    expect(notLast.message).toContain('a system.message must be the last event');
    const alone = await rejection(client.beta.sessions.events.send(newer, { events: [system] }));
    expect(alone.message).toContain('must immediately follow the user.message');

    const notImage = await rejection(
      client.beta.sessions.events.send(older, {
        events: [{ type: 'user.message', content: [{ type: 'image', source: { type: 'file', file_id: text.id } }] }],
      }),
    );
    expect(notImage.status).toBe(400);
    expect(notImage.message).toContain('events[0].content[0].source.file_id');
    expect(notImage.message).toContain('is not a PNG, JPEG, GIF or WebP image');

    const missing = await rejection(
      client.beta.sessions.events.send(older, {
        events: [
          message,
          {
            type: 'user.message',
            content: [{ type: 'document', source: { type: 'file', file_id: 'file_0123456789' } }],
          },
        ],
      }),
    );
    expect(missing.status).toBe(404);

    const badBase64 = await rejection(
      client.beta.sessions.events.send(older, {
        events: [
          {
            type: 'user.message',
            content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'Qk0=' } }],
          },
        ],
      }),
    );
    expect(badBase64.status).toBe(400);
    expect(badBase64.message).toContain('image/png');

    const redacted = await rejection(
      client.beta.sessions.events.send(older, { events: [{ type: 'user.message', content: [{ type: 'redacted' }] }] }),
    );
    expect(redacted.status).toBe(400);
    expect(redacted.message).toContain('redacted');

    // Nothing of a refused request reached either session: the first message of a batch was refused with it.
    expect((await allEvents(older)).length).toBe(before);
    expect((await allEvents(newer)).some((event) => event.type === 'user.message')).toBe(false);
  });
});
