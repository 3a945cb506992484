import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_PREFIXES } from '../common/blob-store';
import type { SessionEvent } from '../common/events';
import { blobFolder } from '../storage/folder-blob-store';
import { listAllEvents, sendAndWait, startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;

beforeAll(async () => {
  harness = await startTestStack();
});

afterAll(async () => {
  await harness?.stop();
});

function toolResultText(event: SessionEvent | undefined): string {
  if (event?.type !== 'agent.tool_result') throw new Error(`expected agent.tool_result, got ${event?.type}`);
  return (event.content ?? []).map((block) => ('text' in block ? block.text : '')).join('');
}

describe('tool output kept in the blob store', () => {
  it('a long bash output reaches the stream and the events list whole, without the contentKey of the log', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'stored tool output' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'seq 1 3000' } },
      { kind: 'text', text: 'Counted.' },
    );
    const expected = Array.from({ length: 3000 }, (_, index) => String(index + 1)).join('\n');

    const { events } = await sendAndWait(harness.client, sessionId, 'count to 3000');
    // The worker kept the output out of history: the log holds a key, the body is a blob.
    const outputs = readdirSync(path.join(blobFolder(harness.config.dataDir), BLOB_PREFIXES.toolOutput));
    expect(outputs.length).toBeGreaterThan(0);
    const streamed = events.find((event) => event.type === 'agent.tool_result');
    expect(toolResultText(streamed).trim()).toBe(expected);
    expect(JSON.stringify(streamed)).not.toContain('contentKey');

    const listed = (await listAllEvents(harness.client, sessionId, 3)).find(
      (event) => event.type === 'agent.tool_result',
    );
    expect(listed).toEqual(streamed);

    const newest = await fetch(
      `${harness.stack.apiUrl}/v1/sessions/${sessionId}/events?order=desc&limit=1&types[]=agent.tool_result`,
      { headers: { 'x-api-key': TEST_API_KEY } },
    );
    expect(await newest.json()).toMatchObject({ data: [streamed] });
    expect(harness.model.remaining()).toBe(0);
    await harness.client.endSession(sessionId);
  });
});
