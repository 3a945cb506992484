import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerProcess } from './support/worker-process';
import { sendAndWait, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // The worker processes get this process's environment: a setting exported in the shell would decide the default.
  delete process.env['KEEL_WORKFLOW_STACK_TRACES'];
  harness = await startTestStack({ runWorker: false, model: { respond: () => ({ kind: 'text', text: 'Hello.' }) } });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await harness?.stop();
});

/** A worker process with `environment` added, until `run` is done; it stops before the next one starts. */
async function withWorker(environment: Record<string, string>, run: () => Promise<void>): Promise<void> {
  const child = await startWorkerProcess({ ...harness.workerEnvironment, ...environment }, children);
  try {
    await run();
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}

/** Temporal's built-in `__stack_trace` Query on a new session's Workflow, once it has run a turn. */
async function stackTraceOfNewSession(): Promise<string> {
  const { id } = await harness.client.createSession({ title: 'stack trace' });
  await sendAndWait(harness.client, id, 'hi');
  return harness.stack.temporal.workflow.getHandle(id).query<string>('__stack_trace');
}

describe('Workflow stack traces (KEEL_WORKFLOW_STACK_TRACES, patched into the Temporal SDK)', () => {
  it('are off by default: the __stack_trace Query says so', async () => {
    await withWorker({}, async () => {
      await expect(stackTraceOfNewSession()).rejects.toThrow(/stack traces are not enabled on this worker/);
    });
  });

  it('with KEEL_WORKFLOW_STACK_TRACES=on, the Query answers where the session Workflow waits', async () => {
    await withWorker({ KEEL_WORKFLOW_STACK_TRACES: 'on' }, async () => {
      const trace = await stackTraceOfNewSession();
      // An idle session waits in its main loop's `condition` for the next message: a frame in the session Workflow.
      expect(trace).toMatch(/workflows\/session\.ts:\d+:\d+/);
    });
  });
});
