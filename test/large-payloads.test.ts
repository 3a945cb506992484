import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_PREFIXES } from '../common/blob-store';
import { blobFolder } from '../storage/folder-blob-store';
import { EXTERNAL_PAYLOAD_THRESHOLD_BYTES } from '../worker/payload-store';
import { listAllEvents, sendAndWait, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;

beforeAll(async () => {
  harness = await startTestStack();
});

afterAll(async () => {
  await harness?.stop();
});

/** The size of every payload's data in a raw history (what Temporal stores), found at any depth. */
function payloadSizes(value: unknown, sizes: number[] = []): number[] {
  if (value === null || typeof value !== 'object') return sizes;
  if (value instanceof Uint8Array) return sizes;
  const record = value as Record<string, unknown>;
  if (record['data'] instanceof Uint8Array && 'metadata' in record) sizes.push(record['data'].length);
  for (const entry of Object.values(record)) payloadSizes(entry, sizes);
  return sizes;
}

describe('large payloads go to the payload store (Temporal External Storage), not into history', () => {
  it('a 570 KB message is logged, sent to the model and listed whole, while every payload in the history stays small', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'large' });
    const text = '€'.repeat(190_000); // 570,000 bytes of UTF-8
    harness.model.enqueue({ kind: 'text', text: 'read it all' }, { kind: 'text', text: 'and the second turn' });
    const first = await sendAndWait(harness.client, sessionId, text);
    expect(first.idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    const second = await sendAndWait(harness.client, sessionId, 'more');
    expect(second.idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });

    // The model got the whole text, twice (the conversation carries it into the second turn).
    const lastRequest = JSON.stringify(harness.model.requests.at(-1)?.body.messages);
    expect(lastRequest).toContain(text);
    const logged = await listAllEvents(harness.client, sessionId);
    const message = logged.find((event) => event.type === 'user.message');
    expect(message).toMatchObject({ content: [{ type: 'text', text }] });

    const history = await harness.stack.temporal.workflow.getHandle(sessionId).fetchHistory();
    const sizes = payloadSizes(history);
    expect(sizes.length).toBeGreaterThan(10);
    expect(Math.max(...sizes)).toBeLessThan(EXTERNAL_PAYLOAD_THRESHOLD_BYTES);
    const stored = readdirSync(path.join(blobFolder(harness.config.dataDir), BLOB_PREFIXES.payloads));
    expect(stored.length).toBeGreaterThan(0);
    await harness.client.endSession(sessionId);
  });
});
