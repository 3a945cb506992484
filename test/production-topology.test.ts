import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { toFile } from '@anthropic-ai/sdk';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, ScriptedReply } from './scripted-model-server';
import { exited, startProductionTopology, TOPOLOGY_BUCKET } from './support/production-topology';
import type { ProductionTopology } from './support/production-topology';
import { allSessionEvents, untilLog } from './support/sdk';

/**
 * The model of this file: a message `steps:N sleep:S` gets N bash calls that each sleep S seconds, one per model
 * call, then a text reply; each session runs on its own, whatever order requests arrive in.
 */
function reply(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages;
  const first = JSON.stringify(messages[0]?.content ?? '');
  const steps = Number(/steps:(\d+)/.exec(first)?.[1] ?? 0);
  const sleep = /sleep:([\d.]+)/.exec(first)?.[1] ?? '0';
  const done = messages.filter((message) => message.role === 'assistant').length;
  const read = /cat:([^\s"\\]+)/.exec(first)?.[1];
  if (read !== undefined && done === 0) return { kind: 'tool_use', name: 'bash', input: { command: `cat ${read}` } };
  if (read !== undefined) return { kind: 'text', text: 'read it' };
  if (done < steps) return { kind: 'tool_use', name: 'bash', input: { command: `sleep ${sleep}; echo step ${done}` } };
  return { kind: 'text', text: `All ${steps} steps ran, streamed across processes in several deltas.` };
}

let topology: ProductionTopology;
let agentId: string;
let environmentId: string;

beforeAll(async () => {
  topology = await startProductionTopology({ servers: 2, workers: 2, model: { respond: reply } });
  const client = topology.servers[0]!.client;
  agentId = (
    await client.beta.agents.create({
      name: 'topology',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    })
  ).id;
  environmentId = (await client.beta.environments.create({ name: 'topology', config: { type: 'cloud' } })).id;
}, 240_000);

afterAll(async () => {
  await topology?.stop();
}, 60_000);

/** Sends `text` to the session through `client`; resolves to the id of the logged `user.message`. */
async function send(client: Anthropic, sessionId: string, text: string): Promise<string> {
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  const id = sent.data?.[0]?.id;
  if (id === undefined) throw new Error('no user.message id');
  return id;
}

/** Checks one finished session's log: no duplicate event, `steps` tool calls each with one result, idle at the end. */
function expectWholeTurn(events: BetaManagedAgentsSessionEvent[], steps: number): void {
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  const uses = events.filter((event) => event.type === 'agent.tool_use');
  const results = events.filter((event) => event.type === 'agent.tool_result');
  expect(uses).toHaveLength(steps);
  expect(results.map((event) => (event as { tool_use_id: string }).tool_use_id)).toEqual(uses.map((use) => use.id));
  // Each step ran its command in a sandbox: `echo step <n>`, in order.
  expect(results.map((event) => JSON.stringify(event).includes(`step ${results.indexOf(event)}`))).toEqual(
    results.map(() => true),
  );
  expect(results.some((event) => (event as { is_error?: boolean }).is_error === true)).toBe(false);
  expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
}

describe('production topology: PostgreSQL, S3, one Temporal, two workers and two servers as processes', () => {
  it('a session created through one server streams from the other with its text deltas, pushed across processes', async () => {
    const [a, b] = topology.servers;
    const session = await a!.client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    // Everything the control plane holds is in PostgreSQL: the other server sees the agent and environment.
    expect((await b!.client.beta.agents.retrieve(agentId)).name).toBe('topology');
    const stream = await b!.client.beta.sessions.events.stream(session.id, { event_deltas: ['agent.message'] });
    const items: Array<{ type: string; [key: string]: unknown }> = [];
    const reading = (async () => {
      for await (const item of stream) {
        items.push(item as never);
        if (item.type === 'session.status_idle') return;
      }
    })();
    await send(a!.client, session.id, 'steps:1 sleep:0');
    await reading;
    stream.controller.abort();
    const logged = items.filter((item) => item.type !== 'event_start' && item.type !== 'event_delta');
    expect(logged.map((item) => item.type)).toContain('agent.tool_result');
    const lastMessage = logged.filter((item) => item.type === 'agent.message').at(-1) as { id: string } | undefined;
    const deltas = items.filter((item) => item.type === 'event_delta' && item['event_id'] === lastMessage?.id);
    expect(deltas.length).toBeGreaterThan(0);
    expect(
      deltas.map((item) => (item as unknown as { delta: { content: { text: string } } }).delta.content.text).join(''),
    ).toBe('All 1 steps ran, streamed across processes in several deltas.');
    // The log is the one both servers read.
    expect((await allSessionEvents(a!.client, session.id)).map((event) => event.id)).toEqual(
      (await allSessionEvents(b!.client, session.id)).map((event) => event.id),
    );
  });

  it('a worker SIGKILLed in the middle of 20 running sessions loses no event, and every session completes', async () => {
    const client = topology.servers[0]!.client;
    const steps = 4;
    const sessions = await Promise.all(
      Array.from({ length: 20 }, () => client.beta.sessions.create({ agent: agentId, environment_id: environmentId })),
    );
    await Promise.all(sessions.map((session) => send(client, session.id, `steps:${steps} sleep:0.5`)));
    // Wait until both workers run tool calls, then kill one of them mid-turn.
    await untilLog(client, sessions[19]!.id, (events) => events.some((event) => event.type === 'agent.tool_result'), {
      what: 'a first tool result',
    });
    const victim = topology.workers[0]!;
    victim.child.kill('SIGKILL');
    await exited(victim.child);

    for (const session of sessions) {
      const events = await untilLog(
        client,
        session.id,
        (logged) => logged.some((event) => event.type === 'session.status_idle'),
        { timeoutMs: 180_000, what: 'the end of the turn' },
      );
      expectWholeTurn(events, steps);
    }
    topology.workers[0] = await topology.startWorker('worker-c');
  }, 300_000);

  it('a SIGKILLed server drops only its own streams, which resume on the other server with Last-Event-ID', async () => {
    const [a, b] = topology.servers;
    const session = await a!.client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const onB = await b!.client.beta.sessions.events.stream(session.id);
    const onA = await a!.client.beta.sessions.events.stream(session.id);
    const seenOnB: string[] = [];
    const readingB = (async () => {
      try {
        for await (const item of onB) seenOnB.push((item as { id: string }).id);
      } catch {
        // The server died under the stream.
      }
    })();
    const seenOnA: string[] = [];
    const readingA = (async () => {
      for await (const item of onA) {
        seenOnA.push((item as { id: string }).id);
        if (item.type === 'session.status_idle') return;
      }
    })();
    await send(a!.client, session.id, 'steps:6 sleep:0.4');
    await expect.poll(() => seenOnB.length, { timeout: 30_000 }).toBeGreaterThan(4);
    b!.child.kill('SIGKILL');
    await exited(b!.child);
    await readingB;
    const lastSeen = seenOnB.at(-1)!;

    const resumed = await a!.client.beta.sessions.events.stream(
      session.id,
      {},
      { headers: { 'Last-Event-ID': lastSeen } },
    );
    const after: string[] = [];
    for await (const item of resumed) {
      after.push((item as { id: string }).id);
      if (item.type === 'session.status_idle') break;
    }
    resumed.controller.abort();
    await readingA;
    onA.controller.abort();
    // Server A's own stream never noticed; the resumed one continues exactly where B's ended.
    expect([...seenOnB, ...after]).toEqual(seenOnA);
    const logged = await allSessionEvents(a!.client, session.id);
    expectWholeTurn(logged, 6);
    topology.servers[1] = await topology.startServer('server-b2');
  }, 180_000);

  it('a file uploaded through one server downloads from the other, mounts on a worker, and is deleted everywhere', async () => {
    const [a, b] = topology.servers;
    const content = `col\n${Date.now()}\n`;
    const file = await a!.client.beta.files.upload({
      file: await toFile(Buffer.from(content), 'data.csv', { type: 'text/csv' }),
    });
    // Server B never saw the upload: it reads the content from the bucket.
    const downloaded = await b!.client.beta.files.download(file.id);
    expect(await downloaded.text()).toBe(content);
    const session = await b!.client.beta.sessions.create({
      agent: agentId,
      environment_id: environmentId,
      resources: [{ type: 'file', file_id: file.id, mount_path: '/mnt/inputs/data.csv' }],
    });
    const sent = await send(b!.client, session.id, 'cat:/mnt/inputs/data.csv');
    const events = await untilLog(
      b!.client,
      session.id,
      (logged) => logged.some((event, index) => index > 0 && event.type === 'session.status_idle'),
      { what: 'the end of the turn', timeoutMs: 60_000 },
    );
    expect(events.some((event) => event.id === sent)).toBe(true);
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(JSON.stringify(result)).toContain(JSON.stringify(content.trim()).slice(1, -1));
    const key = `files/${file.id}`;
    expect(await topology.seaweed.listKeys(TOPOLOGY_BUCKET, 'files/')).toContain(key);
    await b!.client.beta.files.delete(file.id);
    expect(await topology.seaweed.listKeys(TOPOLOGY_BUCKET, 'files/')).not.toContain(key);
    await expect(a!.client.beta.files.download(file.id)).rejects.toThrow();
  });

  it('the control plane is PostgreSQL: agents, environments and sessions’ work live in its tables, not in a data folder', async () => {
    const database = new pg.Client({ connectionString: topology.databaseUrl });
    await database.connect();
    try {
      const agents = await database.query<{ id: string }>('SELECT id FROM agents');
      expect(agents.rows.map((row) => row.id)).toContain(agentId);
      const environments = await database.query<{ id: string }>('SELECT id FROM environments');
      expect(environments.rows.map((row) => row.id)).toContain(environmentId);
    } finally {
      await database.end();
    }
    // Conversation segments and archives are objects in the bucket, shared by every worker.
    expect((await topology.seaweed.listKeys(TOPOLOGY_BUCKET)).length).toBeGreaterThan(0);
  });
});
