import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_PREFIXES } from '../common/blob-store';
import { contentKey } from '../storage/content-key';
import { blobFolder } from '../storage/folder-blob-store';
import { INLINE_OUTPUT_MAX_CHARS } from '../activities/storage/store-tool-output';
import { startSeaweedFs } from './support/seaweedfs';
import type { SeaweedFs } from './support/seaweedfs';
import { sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const BUCKET = 'keel-stack';
const PREFIX = 'keel/';

let seaweed: SeaweedFs;
let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  seaweed = await startSeaweedFs();
  // Continue-as-new every 2 steps, so the run's events are archived (through the payload store) and read back.
  harness = await startTestStack({
    environment: { ...seaweed.keelEnvironment(BUCKET, PREFIX), KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '2' },
  });
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
  await seaweed?.stop();
});

/** The text of an `agent.tool_result` event. */
function resultText(event: BetaManagedAgentsSessionEvent): string {
  if (event.type !== 'agent.tool_result') throw new Error(`expected agent.tool_result, got ${event.type}`);
  return (event.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** Every file under `folder`, as paths relative to it; none when the folder does not exist. */
function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

describe('KEEL_BLOB_STORE=s3: a Keel whose blobs live in SeaweedFS', () => {
  it('long tool outputs are stored as objects in the bucket, listed whole through the SDK, and nothing lands in the data folder', async () => {
    const agent = await client.beta.agents.create({
      name: 's3 coder',
      model: 'scripted-model',
      // A system prompt, which the first model call of each run stores (`system/`) for the next ones to name.
      system: 'You list numbers.',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await client.beta.environments.create({ name: 's3 env', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

    const first = Array.from({ length: 800 }, (_, index) => `line ${index + 1}`).join('\n');
    const second = Array.from({ length: 600 }, (_, index) => `row ${index + 1}`).join('\n');
    expect(first.length).toBeGreaterThan(INLINE_OUTPUT_MAX_CHARS);
    expect(second.length).toBeGreaterThan(INLINE_OUTPUT_MAX_CHARS);
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'seq -f "line %g" 1 800' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'seq -f "row %g" 1 600' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo short' } },
      { kind: 'text', text: 'Both listed.' },
    );
    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'list them' }] }],
    });
    const events = await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
    expect(harness.model.remaining()).toBe(0);

    // The SDK lists every tool result whole: the server read the long ones back from the bucket.
    const results = events.filter((event) => event.type === 'agent.tool_result').map(resultText);
    expect(results.map((text) => text.trim())).toEqual([first, second, 'short']);
    expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    const runs: string[] = [];
    for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${session.id}'` })) {
      runs.push(execution.runId);
    }
    expect(runs.length).toBeGreaterThan(1);

    // The objects are in the bucket, one per blob key under the prefix.
    const keys = await seaweed.listKeys(BUCKET);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((key) => key.startsWith(PREFIX))).toBe(true);
    const kinds = new Set(keys.map((key) => key.slice(PREFIX.length).split('/')[0] + '/'));
    // Every kind a session writes (uploaded files, `files/`, are the production topology test's).
    for (const prefix of Object.values(BLOB_PREFIXES).filter((kind) => kind !== BLOB_PREFIXES.files))
      expect(kinds).toContain(prefix);
    const outputKeys = keys.filter((key) => key.startsWith(`${PREFIX}${BLOB_PREFIXES.toolOutput}`));
    const outputs: string[] = [];
    for (const key of outputKeys) {
      const object = await seaweed.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const body = (await object.Body?.transformToString()) ?? '';
      // Content-addressed: the key is the SHA-256 of the body.
      expect(key).toBe(`${PREFIX}${contentKey(BLOB_PREFIXES.toolOutput, body)}`);
      outputs.push(body.trim());
    }
    expect(outputs.sort()).toEqual([first, second].sort());

    // Nothing went to the folders of the embedded default.
    expect(filesUnder(blobFolder(harness.config.dataDir))).toEqual([]);
    expect(filesUnder(path.join(harness.config.dataDir, 'payloads'))).toEqual([]);
    await harness.client.endSession(session.id);
  });
});
