import Anthropic, { toFile } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsStreamSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { rejection, sdkClient } from './support/sdk';

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  const agent = await client.beta.agents.create({
    name: 'sdk coder',
    model: 'scripted-model',
    system: 'You are version one.',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  agentId = agent.id;
  environmentId = (await client.beta.environments.create({ name: 'sdk env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

/** Reads a stream until the session is idle after a user message; returns every streamed item. */
async function readTurn(
  stream: AsyncIterable<BetaManagedAgentsStreamSessionEvents>,
): Promise<BetaManagedAgentsStreamSessionEvents[]> {
  const items: BetaManagedAgentsStreamSessionEvents[] = [];
  let sawMessage = false;
  for await (const item of stream) {
    items.push(item);
    if (item.type === 'user.message') sawMessage = true;
    if (sawMessage && item.type === 'session.status_idle') break;
  }
  return items;
}

describe('the official SDK against Keel (client.beta.sessions)', () => {
  it('creates a session on an agent and environment, streams a bash turn with deltas, and lists the same events in pages', async () => {
    const session = await client.beta.sessions.create({
      agent: agentId,
      environment_id: environmentId,
      title: 'sdk turn',
    });
    expect(session).toMatchObject({
      type: 'session',
      status: 'idle',
      title: 'sdk turn',
      environment_id: environmentId,
    });
    expect(session.agent).toMatchObject({
      id: agentId,
      type: 'agent',
      version: 1,
      name: 'sdk coder',
      model: { id: 'scripted-model' },
    });

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo from-the-sdk' }, text: 'Running it.' },
      { kind: 'text', text: 'All done here.' },
    );
    const stream = await client.beta.sessions.events.stream(session.id, { event_deltas: ['agent.message'] });
    const reading = readTurn(stream);
    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'run it' }] }],
    });
    expect(sent.data?.[0]).toMatchObject({ type: 'user.message', id: expect.stringMatching(/^sevt_/) });
    const items = await reading;
    stream.controller.abort();

    const logged = items.filter((item) => item.type !== 'event_start' && item.type !== 'event_delta');
    expect(logged.map((item) => item.type)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'agent.tool_use',
      'agent.tool_result',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);
    const result = logged.find((item) => item.type === 'agent.tool_result');
    expect(JSON.stringify(result)).toContain('from-the-sdk');
    const deltas = items.filter((item) => item.type === 'event_delta');
    expect(deltas.length).toBeGreaterThan(0);
    const lastMessage = logged.filter((item) => item.type === 'agent.message').at(-1);
    const streamedText = deltas
      .filter(
        (item) =>
          item.type === 'event_delta' &&
          'id' in (lastMessage ?? {}) &&
          item.event_id === (lastMessage as { id: string }).id,
      )
      .map((item) => (item.type === 'event_delta' ? item.delta.content.text : ''))
      .join('');
    expect(streamedText).toBe('All done here.');

    const listed = [];
    for await (const event of client.beta.sessions.events.list(session.id, { limit: 3 })) listed.push(event);
    expect(listed.map((event) => event.id)).toEqual(logged.map((item) => (item as { id: string }).id));
    const firstPage = await client.beta.sessions.events.list(session.id, { limit: 3 });
    expect(firstPage.data).toHaveLength(3);
    expect(firstPage.hasNextPage()).toBe(true);

    const retrieved = await client.beta.sessions.retrieve(session.id);
    expect(retrieved.status).toBe('idle');
    expect(retrieved.usage.output_tokens).toBeGreaterThan(0);
    expect(retrieved.usage.input_tokens).toBeGreaterThan(0);
    // The turn ended with a snapshot of the session's usage, the same counts the session object shows.
    const snapshot = logged.find((item) => item.type === 'session.usage');
    expect(snapshot?.type === 'session.usage' ? snapshot.usage : null).toMatchObject({
      input_tokens: retrieved.usage.input_tokens,
      output_tokens: retrieved.usage.output_tokens,
      cache_read_input_tokens: retrieved.usage.cache_read_input_tokens,
      cache_creation: retrieved.usage.cache_creation,
    });
    expect(retrieved.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: expect.any(Number),
      ephemeral_1h_input_tokens: 0,
    });
    // Active time is the time spent running: it stays put while the session is idle, and duration goes on.
    const active = retrieved.stats?.active_seconds ?? 0;
    expect(active).toBeGreaterThan(0);
    expect(active).toBeLessThanOrEqual(retrieved.stats?.duration_seconds ?? 0);
    expect(retrieved.usage.active_seconds).toBe(active);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const later = await client.beta.sessions.retrieve(session.id);
    expect(later.stats?.active_seconds).toBe(active);
    expect(later.stats?.duration_seconds).toBeGreaterThan((retrieved.stats?.duration_seconds ?? 0) + 1);

    // A stream open when the session is deleted gets session.deleted last, and then it ends.
    const open = await client.beta.sessions.events.stream(session.id);
    const untilEnd = (async () => {
      const types: string[] = [];
      for await (const item of open) types.push(item.type);
      return types;
    })();
    const deleted = await client.beta.sessions.delete(session.id);
    expect(deleted).toEqual({ id: session.id, type: 'session_deleted' });
    expect(await untilEnd).toEqual(['session.status_terminated', 'session.deleted']);
    expect((await client.beta.sessions.retrieve(session.id)).status).toBe('terminated');
  });

  it('the stream has no replay: the documented loop sees only its own turn each time, and a stream opened after a turn gets none of it', async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const turnIds: string[][] = [];
    for (const text of ['first', 'second', 'third']) {
      harness.model.enqueue({ kind: 'text', text: `answer to ${text}` });
      // The hosted docs' loop: open the stream, send, read until the session is idle.
      const stream = await client.beta.sessions.events.stream(session.id);
      await client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
      });
      const items: BetaManagedAgentsStreamSessionEvents[] = [];
      for await (const item of stream) {
        items.push(item);
        if (item.type === 'session.status_idle') break;
      }
      stream.controller.abort();
      expect(items[0]).toMatchObject({ type: 'user.message', content: [{ type: 'text', text }] });
      expect(JSON.stringify(items)).toContain(`answer to ${text}`);
      turnIds.push(items.map((item) => (item as { id: string }).id));
    }
    // No event is seen by two turns' streams.
    expect(new Set(turnIds.flat()).size).toBe(turnIds.flat().length);

    const late = await client.beta.sessions.events.stream(session.id);
    const lateItems: string[] = [];
    const reading = (async () => {
      for await (const item of late) lateItems.push(item.type);
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    late.controller.abort();
    await reading.catch(() => undefined);
    expect(lateItems).toEqual([]);
    // The history is still all there for the client to list.
    const listed = await client.beta.sessions.events.list(session.id, { limit: 100 });
    expect(listed.data.map((event) => event.id)).toEqual(expect.arrayContaining(turnIds.flat()));
    await client.beta.sessions.delete(session.id);
  });

  it('a session snapshots the agent version it starts with: an update makes version 2, and a session pinned to version 1 keeps the old prompt', async () => {
    const updated = await client.beta.agents.update(agentId, { version: 1, system: 'You are version two.' });
    expect(updated.version).toBe(2);
    const latest = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const pinned = await client.beta.sessions.create({
      agent: { type: 'agent', id: agentId, version: 1 },
      environment_id: environmentId,
    });
    expect(latest.agent.version).toBe(2);
    expect(pinned.agent.version).toBe(1);

    harness.model.enqueue({ kind: 'text', text: 'pinned' });
    const stream = await client.beta.sessions.events.stream(pinned.id);
    const reading = readTurn(stream);
    await client.beta.sessions.events.send(pinned.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'who are you?' }] }],
    });
    await reading;
    stream.controller.abort();
    expect(JSON.stringify(harness.model.requests.at(-1)?.body.system)).toContain('You are version one.');
    const onVersion = async (version: number): Promise<string[]> => {
      const ids: string[] = [];
      for await (const session of client.beta.sessions.list({ agent_id: agentId, agent_version: version })) {
        ids.push(session.id);
      }
      return ids;
    };
    const [first, second] = [await onVersion(1), await onVersion(2)];
    expect(first).toContain(pinned.id);
    expect(first).not.toContain(latest.id);
    expect(second).toContain(latest.id);
    expect(second).not.toContain(pinned.id);
    await client.beta.sessions.delete(latest.id);
    await client.beta.sessions.delete(pinned.id);
  });

  it('an interrupt sent through the SDK stops a running command and the session goes idle', async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'sleep 60' } });
    const stream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'wait' }] }],
    });
    const seen: string[] = [];
    for await (const item of stream) {
      seen.push(item.type);
      if (item.type === 'agent.tool_use') {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
      }
      if (item.type === 'session.status_idle') break;
    }
    stream.controller.abort();
    expect(seen).toContain('user.interrupt');
    expect(seen.at(-1)).toBe('session.status_idle');
    await client.beta.sessions.delete(session.id);
  });

  it('updates title and metadata, archives (then refuses events with 409), and lists sessions with filters and pages', async () => {
    const session = await client.beta.sessions.create({
      agent: agentId,
      environment_id: environmentId,
      metadata: { team: 'a', drop: 'x' },
    });
    const updated = await client.beta.sessions.update(session.id, {
      title: 'renamed',
      metadata: { team: 'b', drop: null },
    });
    expect(updated).toMatchObject({ title: 'renamed', metadata: { team: 'b' } });
    expect(updated.metadata).not.toHaveProperty('drop');
    // The same values again change nothing, so only the first update is logged, with only what it changed.
    await client.beta.sessions.update(session.id, { title: 'renamed', metadata: { team: 'b' } });
    await client.beta.sessions.update(session.id, { metadata: { team: 'c' } });
    const logged = [];
    for await (const event of client.beta.sessions.events.list(session.id)) {
      if (event.type === 'session.updated') logged.push(event);
    }
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ type: 'session.updated', title: 'renamed', metadata: { team: 'b' } });
    expect(logged[1]).toMatchObject({ metadata: { team: 'c' } });
    expect(logged[1]).not.toHaveProperty('title');
    expect(logged[0]?.id).toMatch(/^sevt_/);

    const others = [];
    for (let index = 0; index < 3; index++) {
      others.push(
        await client.beta.sessions.create({ agent: agentId, environment_id: environmentId, title: `page ${index}` }),
      );
    }
    const listed: string[] = [];
    for await (const item of client.beta.sessions.list({ agent_id: agentId, limit: 2 })) listed.push(item.id);
    for (const created of [session, ...others]) expect(listed).toContain(created.id);
    const firstPage = await client.beta.sessions.list({ agent_id: agentId, limit: 2 });
    expect(firstPage.data).toHaveLength(2);
    expect(firstPage.hasNextPage()).toBe(true);
    const oldestFirst: string[] = [];
    for await (const item of client.beta.sessions.list({ agent_id: agentId, limit: 2, order: 'asc' })) {
      oldestFirst.push(item.id);
    }
    expect(oldestFirst).toEqual([...listed].reverse());
    const ascPage = await client.beta.sessions.list({ agent_id: agentId, limit: 2, order: 'asc' });
    expect(ascPage.data.map((item) => item.id)).toEqual(oldestFirst.slice(0, 2));
    expect(ascPage.hasNextPage()).toBe(true);
    // prev_page goes back: from the second page, the previous page is the first one again, in either order.
    for (const order of ['desc', 'asc'] as const) {
      const first = await client.beta.sessions.list({ agent_id: agentId, limit: 2, order });
      expect(first.prev_page).toBeNull();
      const second = await client.beta.sessions.list({ agent_id: agentId, limit: 2, order, page: first.next_page });
      expect(second.data.map((item) => item.id)).toEqual((order === 'desc' ? listed : oldestFirst).slice(2, 4));
      expect(second.prev_page).toEqual(expect.any(String));
      const back = await client.beta.sessions.list({ agent_id: agentId, limit: 2, order, page: second.prev_page });
      expect(back.data.map((item) => item.id)).toEqual(first.data.map((item) => item.id));
      expect(back.prev_page).toBeNull();
    }
    const bogus = await rejection(client.beta.sessions.list({ page: 'bm90LWEtY3Vyc29y' }));
    expect(bogus.status).toBe(400);
    expect(bogus.message).toContain('page');
    const terminated = await client.beta.sessions.list({ agent_id: agentId, statuses: ['terminated'] });
    expect(terminated.data.map((item) => item.id)).not.toContain(session.id);

    const archived = await client.beta.sessions.archive(session.id);
    expect(archived.archived_at).toEqual(expect.any(String));
    const refused = await client.beta.sessions.events
      .send(session.id, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'late' }] }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.ConflictError);
    expect(String(refused)).toContain('archived');
    const visible = await client.beta.sessions.list({ agent_id: agentId, limit: 100 });
    expect(visible.data.map((item) => item.id)).not.toContain(session.id);
    const withArchived = await client.beta.sessions.list({ agent_id: agentId, limit: 100, include_archived: true });
    expect(withArchived.data.map((item) => item.id)).toContain(session.id);
    // An archived session can still be deleted (it may hold a sandbox); then it is gone for good.
    await client.beta.sessions.delete(session.id);
    expect((await client.beta.sessions.retrieve(session.id)).status).toBe('terminated');
    for (const created of others) await client.beta.sessions.delete(created.id);
  });

  it('lists events by type and newest first, and a stream reconnecting with Last-Event-ID resumes right after that event', async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo one' } },
      { kind: 'text', text: 'first' },
    );
    const stream = await client.beta.sessions.events.stream(session.id);
    const reading = readTurn(stream);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'go' }] }],
    });
    const all = await reading;
    stream.controller.abort();

    const lastEvent = all.at(-1) as { id: string; processed_at: string };
    const later = await client.beta.sessions.events.list(session.id, { 'created_at[gte]': lastEvent.processed_at });
    expect(later.data.at(-1)?.id).toBe(lastEvent.id);
    for (const event of later.data) {
      expect(Date.parse(event.processed_at ?? '')).toBeGreaterThanOrEqual(Date.parse(lastEvent.processed_at));
    }
    expect(later.data.length).toBeLessThan(all.length);
    const none = await client.beta.sessions.events.list(session.id, { 'created_at[lt]': '2000-01-01T00:00:00Z' });
    expect(none.data).toEqual([]);
    const messages = await client.beta.sessions.events.list(session.id, {
      types: ['agent.message', 'agent.tool_result'],
    });
    expect(messages.data.map((event) => event.type)).toEqual(['agent.tool_result', 'agent.message']);
    const newestFirst = [];
    for await (const event of client.beta.sessions.events.list(session.id, { order: 'desc', limit: 4 }))
      newestFirst.push(event.id);
    expect(newestFirst).toEqual(all.map((item) => (item as { id: string }).id).reverse());

    const resumeAfter = all[4] as { id: string };
    const resumed = await client.beta.sessions.events.stream(
      session.id,
      {},
      { headers: { 'Last-Event-ID': resumeAfter.id } },
    );
    const replayed: string[] = [];
    for await (const item of resumed) {
      replayed.push((item as { id: string }).id);
      if (replayed.length === all.length - 5) break;
    }
    resumed.controller.abort();
    expect(replayed).toEqual(all.slice(5).map((item) => (item as { id: string }).id));
    const badResume = await client.beta.sessions.events
      .stream(session.id, {}, { headers: { 'Last-Event-ID': 'sevt_notinthissession' } })
      .catch((error: unknown) => error);
    expect(badResume).toBeInstanceOf(Anthropic.BadRequestError);
    await client.beta.sessions.delete(session.id);
  });

  it('mounts an uploaded file read-only into the sandbox at the default and at a chosen mount_path', async () => {
    const file = await client.beta.files.upload({
      file: await toFile(Buffer.from('col\n42\n'), 'data.csv', { type: 'text/csv' }),
    });
    const session = await client.beta.sessions.create({
      agent: agentId,
      environment_id: environmentId,
      resources: [
        { type: 'file', file_id: file.id },
        { type: 'file', file_id: file.id, mount_path: '/mnt/inputs/data.csv' },
      ],
    });
    expect(session.resources).toEqual([
      expect.objectContaining({ type: 'file', file_id: file.id, mount_path: `/mnt/session/uploads/${file.id}` }),
      expect.objectContaining({ type: 'file', file_id: file.id, mount_path: '/mnt/inputs/data.csv' }),
    ]);
    harness.model.enqueue(
      {
        kind: 'tool_use',
        name: 'bash',
        input: {
          command: `cat /mnt/session/uploads/${file.id} /mnt/inputs/data.csv; echo changed > /mnt/inputs/data.csv`,
        },
      },
      { kind: 'text', text: 'read it' },
    );
    const stream = await client.beta.sessions.events.stream(session.id);
    const reading = readTurn(stream);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'read' }] }],
    });
    const items = await reading;
    stream.controller.abort();
    const result = JSON.stringify(items.find((item) => item.type === 'agent.tool_result'));
    expect(result).toContain('col\\n42\\ncol\\n42');
    expect(result).toMatch(/Read-only file system/);
    const unknownFile = await client.beta.sessions
      .create({
        agent: agentId,
        environment_id: environmentId,
        resources: [{ type: 'file', file_id: 'file_000000000000000000000000' }],
      })
      .catch((error: unknown) => error);
    expect(unknownFile).toBeInstanceOf(Anthropic.NotFoundError);
    await client.beta.sessions.delete(session.id);
  });

  it('refuses bad sessions with the SDK error classes, naming the field, and creates nothing', async () => {
    const before = (await harness.stack.temporal.workflow.count("WorkflowType = 'sessionWorkflow'")).count;
    await expect(
      client.beta.sessions.create({ agent: 'agent_000000000000000000000000', environment_id: environmentId }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const wrongKind = await client.beta.sessions
      .create({ agent: agentId, environment_id: agentId })
      .catch((error: unknown) => error);
    expect(wrongKind).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String(wrongKind)).toContain('environment_id');
    const withVault = await client.beta.sessions
      .create({ agent: agentId, environment_id: environmentId, vault_ids: ['vlt_1'] })
      .catch((error: unknown) => error);
    expect(withVault).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String(withVault)).toContain('vault_ids');
    // Filters of features Keel does not have are refused, naming the filter, rather than ignored (and so is a
    // malformed memory store id).
    const filters: Array<[Parameters<typeof client.beta.sessions.list>[0], string]> = [
      [{ deployment_id: 'depl_0000' }, 'deployment_id'],
      [{ memory_store_id: 'memstore_0000' }, 'memory_store_id'],
      [{ agent_version: 1 }, 'agent_version'],
    ];
    for (const [params, name] of filters) {
      const error = await client.beta.sessions.list(params).catch((caught: unknown) => caught);
      expect(error, name).toBeInstanceOf(Anthropic.BadRequestError);
      expect(String(error)).toContain(name);
    }
    const badEvent = await client.beta.sessions.events
      .send('sesn_doesnotexist00000', { events: [{ type: 'user.message', content: [{ type: 'text', text: 'x' }] }] })
      .catch((error: unknown) => error);
    expect(badEvent).toBeInstanceOf(Anthropic.NotFoundError);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await harness.stack.temporal.workflow.count("WorkflowType = 'sessionWorkflow'")).count).toBe(before);
  });
});
