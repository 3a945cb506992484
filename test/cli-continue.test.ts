import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { listAllEvents, startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const ROOT = path.resolve(__dirname, '..');
const KEEL = path.join(ROOT, 'bin', 'keel.cjs');

let harness: TestStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  harness = await startTestStack();
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  expect(harness.model.remaining(), 'every scripted model reply was used').toBe(0);
});

afterAll(async () => {
  await harness?.stop();
});

/** `keel <args>` against `apiUrl` (the stack's by default), with its output as it comes and its exit. */
function keel(args: string[], apiUrl = harness.stack.apiUrl) {
  const child = spawn(process.execPath, [KEEL, ...args], {
    cwd: ROOT,
    env: { ...process.env, KEEL_URL: apiUrl, KEEL_API_KEY: TEST_API_KEY },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Polls until `predicate` holds; fails with `describe()` when it does not within 30 s. */
async function until(predicate: () => boolean, describe: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A loopback TCP proxy to the API whose open connections a test can cut, as a restarting proxy would. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('keel run --session and keel events --follow', () => {
  it('keel run --session continues the session keel run created: the second prompt runs in it and exits 0', async () => {
    harness.model.enqueue({ kind: 'text', text: 'First reply.' });
    const first = keel(['run', 'the first prompt']);
    expect(await first.exited, first.stderr()).toBe(0);
    const sessionId = /session (sesn_\S+)/.exec(first.stdout())?.[1] ?? '';
    expect(first.stdout()).toContain('First reply.');

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo second-$((20+1))' } },
      { kind: 'text', text: 'Second reply.' },
    );
    const second = keel(['run', '--session', sessionId, 'the second prompt']);
    expect(await second.exited, second.stderr()).toBe(0);
    expect(second.stdout()).toContain(`session ${sessionId}`);
    expect(second.stdout()).toContain('[bash] {"command":"echo second-$((20+1))"}');
    expect(second.stdout().split('\n')).toContain('second-21');
    expect(second.stdout()).toContain('Second reply.');
    // Only the new turn is printed, not the first one again.
    expect(second.stdout()).not.toContain('First reply.');

    const events = await listAllEvents(harness.client, sessionId, 100);
    const prompts = events.flatMap((event) => (event.type === 'user.message' ? [JSON.stringify(event.content)] : []));
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain('the second prompt');
    // The model saw the first turn when it answered the second.
    expect(JSON.stringify(harness.model.requests.at(-1)?.body.messages)).toContain('First reply.');
    await harness.client.endSession(sessionId);
  });

  it('keel events --follow prints the history, then live events through a dropped connection, each once, and exits 0 when the session ends', async () => {
    const proxy = await cuttableProxy(new URL(harness.stack.apiUrl));
    try {
      const session = await harness.client.createSession({ title: 'followed' });
      harness.model.enqueue({ kind: 'text', text: 'Before following.' });
      const before = await harness.client.sendMessage(session.id, 'one');
      await harness.client.waitForIdle(session.id, before.id);
      const history = await listAllEvents(harness.client, session.id, 100);

      const follow = keel(['events', '--follow', session.id], proxy.url);
      const printed = (): SessionEvent[] =>
        follow
          .stdout()
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as SessionEvent);
      await until(
        () => printed().length >= history.length,
        () => follow.stdout(),
      );
      expect(printed().map((event) => event.id)).toEqual(history.map((event) => event.id));

      // A live turn, then the connection drops, then another turn while it is down or reconnecting.
      harness.model.enqueue({ kind: 'text', text: 'Live reply.' });
      const live = await harness.client.sendMessage(session.id, 'two');
      await until(
        () => follow.stdout().includes('Live reply.'),
        () => follow.stdout(),
      );
      expect(proxy.cut()).toBeGreaterThan(0);
      harness.model.enqueue({ kind: 'text', text: 'After the drop.' });
      const after = await harness.client.sendMessage(session.id, 'three');
      await harness.client.waitForIdle(session.id, after.id);
      const logged = await listAllEvents(harness.client, session.id, 100);
      await until(
        () => printed().length >= logged.length,
        () => `stdout: ${follow.stdout()}\nstderr: ${follow.stderr()}`,
      );
      expect(follow.stderr()).toContain('reconnecting');
      expect(printed().map((event) => event.id)).toEqual(logged.map((event) => event.id));
      expect(logged.map((event) => event.id)).toContain(live.id);

      await harness.client.endSession(session.id);
      expect(await follow.exited, follow.stderr()).toBe(0);
      const ids = printed().map((event) => event.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(printed().at(-1)).toMatchObject({ type: 'session.status_terminated' });
    } finally {
      await proxy.close();
    }
  });
});
