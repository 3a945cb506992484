import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startInPseudoTerminal } from './support/pseudo-terminal';
import type { PseudoTerminal } from './support/pseudo-terminal';
import { sdkClient } from './support/sdk';
import { execInSandbox, listAllEvents, startTestStack, TEST_API_KEY, typesOf } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const ROOT = path.resolve(__dirname, '..');
const KEEL = path.join(ROOT, 'bin', 'keel.cjs');

let harness: TestStack;
let sdk: Anthropic;
let terminal: PseudoTerminal | undefined;

beforeAll(async () => {
  harness = await startTestStack();
  sdk = sdkClient(harness.stack.apiUrl);
});

afterEach(() => {
  if (terminal?.child.exitCode === null) terminal.child.kill('SIGKILL');
  terminal = undefined;
  expect(harness.model.remaining(), 'every scripted model reply was used').toBe(0);
});

afterAll(async () => {
  await harness?.stop();
});

/** Waits until `sleep 60` runs in the session's container, so an interrupt has a real command to stop. */
async function untilSleeping(sessionId: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const processes = await execInSandbox(harness.docker, sessionId, ['ps', '-eo', 'args']).catch(() => '');
    if (processes.includes('sleep 60')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('sleep 60 never ran in the sandbox');
}

/** Waits until the session logged `count` events of `type`. */
async function untilLogged(sessionId: string, type: string, count: number): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const events = await listAllEvents(harness.client, sessionId, 100);
    if (events.filter((event) => event.type === type).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the session never logged ${count} ${type}`);
}

describe('keel chat in a pseudo-terminal', () => {
  it('holds a two-turn conversation: approves an always_ask call with y, then Ctrl-C interrupts `sleep 60` and a second Ctrl-C exits 0', async () => {
    const agent = await sdk.beta.agents.create({
      name: 'asks first',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
    });
    terminal = startInPseudoTerminal([process.execPath, KEEL, 'chat', '--agent', agent.id], {
      cwd: ROOT,
      env: { KEEL_URL: harness.stack.apiUrl, KEEL_API_KEY: TEST_API_KEY },
    });
    const started = await terminal.waitFor(/session (sesn_[\w-]+)/);
    const sessionId = /session (sesn_[\w-]+)/.exec(terminal.screen())?.[1] ?? '';
    let seen = await terminal.waitFor('> ', started);

    // Turn 1: the model asks for a command the agent's policy holds; the user allows it.
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo approved-$((6*7))' } },
      { kind: 'text', text: 'The command printed approved-42.' },
    );
    terminal.type('run the check\r');
    seen = await terminal.waitFor('allow bash {"command":"echo approved-$((6*7))"}? [y/N] ', seen);
    terminal.type('y\r');
    seen = await terminal.waitFor(/\napproved-42\n/, seen);
    seen = await terminal.waitFor('The command printed approved-42.\n', seen);
    seen = await terminal.waitFor('> ', seen);
    const firstTurn = await listAllEvents(harness.client, sessionId, 100);
    expect(firstTurn.find((event) => event.type === 'user.tool_confirmation')).toMatchObject({ result: 'allow' });
    expect(firstTurn.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });

    // Turn 2: the model runs `sleep 60` (allowed first), and Ctrl-C interrupts the turn.
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'sleep 60' } });
    terminal.type('now wait a minute\r');
    seen = await terminal.waitFor('[bash] {"command":"sleep 60"}\n', seen);
    seen = await terminal.waitFor('allow bash {"command":"sleep 60"}? [y/N] ', seen);
    terminal.type('yes\r');
    await untilSleeping(sessionId);
    const interruptedAt = Date.now();
    terminal.type('\x03');
    seen = await terminal.waitFor('[turn interrupted]', seen, 10_000);
    const interruptMs = Date.now() - interruptedAt;
    seen = await terminal.waitFor('> ', seen);
    expect(interruptMs).toBeLessThan(5_000);
    console.log(`keel chat: Ctrl-C to "[turn interrupted]" in ${interruptMs} ms`);
    expect((await harness.client.getSession(sessionId)).status).toBe('idle');
    const events = await listAllEvents(harness.client, sessionId, 100);
    expect(typesOf(events)).toContain('user.interrupt');
    expect(events.filter((event) => event.type === 'user.message')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    expect(await execInSandbox(harness.docker, sessionId, ['ps', '-eo', 'args'])).not.toContain('sleep 60');

    // A second Ctrl-C at the idle prompt leaves; the session stays.
    terminal.type('\x03');
    expect(await terminal.exited()).toBe(0);
    expect(terminal.screen().slice(seen)).toContain(`keel chat --session ${sessionId}`);
    // Each streamed line shows once: nothing was printed twice.
    expect(terminal.screen().split('The command printed approved-42.')).toHaveLength(2);
    await harness.client.endSession(sessionId);
  });

  it('keel chat --session continues a session: shows its history, then a y/N denial with a reason reaches the model, and Ctrl-D exits 0', async () => {
    const agent = await sdk.beta.agents.create({
      name: 'asks first',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
    });
    const session = await harness.client.createSession({ agent: agent.id });
    harness.model.enqueue({ kind: 'text', text: 'Earlier answer.' });
    const first = await harness.client.sendMessage(session.id, 'an earlier question');
    await harness.client.waitForIdle(session.id, first.id);

    terminal = startInPseudoTerminal([process.execPath, KEEL, 'chat', '--session', session.id], {
      cwd: ROOT,
      env: { KEEL_URL: harness.stack.apiUrl, KEEL_API_KEY: TEST_API_KEY },
    });
    let seen = await terminal.waitFor(`session ${session.id}: idle`);
    seen = await terminal.waitFor('> an earlier question\n', seen);
    seen = await terminal.waitFor('Earlier answer.\n', seen);
    seen = await terminal.waitFor('> ', seen);

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'rm -rf /workspace/*' } },
      { kind: 'text', text: 'Understood, I left it.' },
    );
    terminal.type('clean up\r');
    seen = await terminal.waitFor('allow bash {"command":"rm -rf /workspace/*"}? [y/N] ', seen);
    terminal.type('n\r');
    seen = await terminal.waitFor('reason (optional): ', seen);
    terminal.type('keep the files\r');
    seen = await terminal.waitFor('Understood, I left it.\n', seen);
    await terminal.waitFor('> ', seen);
    const events = await listAllEvents(harness.client, session.id, 100);
    expect(events.find((event) => event.type === 'user.tool_confirmation')).toMatchObject({
      result: 'deny',
      deny_message: 'keep the files',
    });
    expect(JSON.stringify(harness.model.requests.at(-1)?.body.messages)).toContain('keep the files');

    terminal.type('\x04');
    expect(await terminal.exited()).toBe(0);
    await harness.client.endSession(session.id);
  });

  it('keel chat with the default agent folds a long tool result, and two Ctrl-C during one turn interrupt it and exit 0', async () => {
    terminal = startInPseudoTerminal([process.execPath, KEEL, 'chat'], {
      cwd: ROOT,
      env: { KEEL_URL: harness.stack.apiUrl, KEEL_API_KEY: TEST_API_KEY },
    });
    let seen = await terminal.waitFor(/session sesn_[\w-]+/);
    const sessionId = /session (sesn_[\w-]+)/.exec(terminal.screen())?.[1] ?? '';
    seen = await terminal.waitFor('> ', seen);

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'seq 1 20' } },
      { kind: 'text', text: 'Twenty lines.' },
    );
    terminal.type('count\r');
    seen = await terminal.waitFor('[bash] {"command":"seq 1 20"}\n1\n2\n3\n4\n5\n6\n7\n8\n… 12 more lines\n', seen);
    seen = await terminal.waitFor('Twenty lines.\n> ', seen);

    harness.model.enqueue({ kind: 'hang' });
    terminal.type('think hard\r');
    await untilLogged(sessionId, 'span.model_request_start', 3);
    terminal.type('\x03\x03');
    expect(await terminal.exited()).toBe(0);
    expect(terminal.screen().slice(seen)).toContain('[interrupting the turn: Ctrl-C again to leave]');
    for (let attempt = 0; attempt < 100 && (await harness.client.getSession(sessionId)).status !== 'idle'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await harness.client.getSession(sessionId)).status).toBe('idle');
    expect(typesOf(await listAllEvents(harness.client, sessionId, 100))).toContain('user.interrupt');
    await harness.client.endSession(sessionId);
  });
});
