import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAndWait, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { sharedWorkflowBundle } from './support/workflow-bundle';
import { workerTracing } from '../worker/worker-tracing';

const HISTORIES = path.join(__dirname, 'histories');
let harness: TestStack;

beforeAll(async () => {
  harness = await startTestStack();
});

afterAll(async () => {
  await harness?.stop();
});

describe('determinism of the session Workflow', () => {
  it('a freshly recorded tool-using session and every committed history replay without nondeterminism', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'replay' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo replay > r.txt' }, text: 'writing' },
      { kind: 'tool_use', name: 'read', input: { file_path: 'r.txt' } },
      { kind: 'text', text: 'done' },
      { kind: 'error', status: 429, retryAfterSeconds: 0 },
      { kind: 'text', text: 'after a retry' },
    );
    await sendAndWait(harness.client, sessionId, 'write and read');
    await sendAndWait(harness.client, sessionId, 'once more');
    await harness.client.endSession(sessionId);
    const history = await harness.stack.temporal.workflow.getHandle(sessionId).fetchHistory();
    const fresh = historyToJSON(history);
    writeFileSync(path.join(HISTORIES, 'latest-tool-session.json.tmp'), fresh);

    const committed = readdirSync(HISTORIES)
      .filter((file) => file.endsWith('.json'))
      .map((file) => ({
        workflowId: file,
        history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'))),
      }));
    expect(committed.length, 'test/histories holds at least one recorded session').toBeGreaterThan(0);

    const bundle = await sharedWorkflowBundle();
    const histories = [{ workflowId: sessionId, history }, ...committed];
    const results = [];
    // The sinks of a worker without tracing: the Workflow interceptors' span exporter, which drops what it gets.
    const replayOptions = { workflowBundle: { code: bundle.code }, sinks: workerTracing(undefined).sinks };
    for await (const result of Worker.runReplayHistories(replayOptions, histories)) {
      results.push(result);
    }
    expect(results).toHaveLength(histories.length);
    for (const result of results) expect(result.error, `replay of ${result.workflowId}`).toBeUndefined();
  });

  it('the Workflow bundle contains no Node built-in, no model SDK and no Docker client', async () => {
    const { code } = await sharedWorkflowBundle();
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).toContain('sessionWorkflow');
    for (const forbidden of [
      '@anthropic-ai/sdk',
      'dockerode',
      'docker-modem',
      'node:fs',
      'require("fs")',
      'require("child_process")',
      'require("net")',
    ]) {
      expect(code, `bundle mentions ${forbidden}`).not.toContain(forbidden);
    }
  });
});
