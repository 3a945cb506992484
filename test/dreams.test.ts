import type Anthropic from '@anthropic-ai/sdk';
import type { BetaDream } from '@anthropic-ai/sdk/resources/beta/dreams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAgent } from '../cli/stack';
import { LiveEventBus } from '../common/live-events';
import { createServer } from '../server/create-server';
import { DREAM_SYSTEM_PROMPT } from '../server/dreams/dream-prompt';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import { openPostgresStore } from '../server/store/open-postgres-store';
import type { StoredDream } from '../server/store/dream-repository';
import { startPostgres } from './support/postgres';
import type { PrivatePostgres } from './support/postgres';
import { rejection, sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let postgres: PrivatePostgres | undefined;
let storeId: string;
let pastSessionId: string;
let completed: BetaDream;
let canceled: BetaDream;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  const store = await client.beta.memoryStores.create({ name: 'Team Notes', description: 'What the team prefers.' });
  storeId = store.id;
  await client.beta.memoryStores.memories.create(storeId, { path: '/prefs.md', content: 'drinks: tea' });
  await client.beta.memoryStores.memories.create(storeId, { path: '/prefs-copy.md', content: 'drinks: tea (again)' });
  // A past session whose transcript the dream reads.
  const agent = await client.beta.agents.create({ name: 'helper', model: 'scripted-model' });
  const environment = await client.beta.environments.create({ name: 'dream env', config: { type: 'cloud' } });
  const past = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  pastSessionId = past.id;
  harness.model.enqueue({ kind: 'text', text: 'Noted: coffee from now on.' });
  const sent = await client.beta.sessions.events.send(past.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'I switched from tea to coffee.' }] }],
  });
  await untilIdleAfter(client, past.id, sent.data?.[0]?.id);
}, 180_000);

afterAll(async () => {
  await harness?.stop();
  await postgres?.stop();
});

/** Polls the dream (every 200 ms, 90 s at most) until `done` holds; returns it and every status seen on the way. */
async function pollDream(
  id: string,
  done: (dream: BetaDream) => boolean,
): Promise<{ dream: BetaDream; seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + 90_000;
  for (;;) {
    const dream = await client.beta.dreams.retrieve(id);
    if (seen.at(-1) !== dream.status) seen.push(dream.status);
    if (done(dream)) return { dream, seen };
    if (Date.now() > deadline) throw new Error(`dream ${id}: still ${dream.status}; seen ${seen.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('dreams (client.beta.dreams) on a real stack', () => {
  it('create answers pending, then the dream runs and completes with a reorganised copy; the input is unchanged', async () => {
    harness.model.enqueue(
      {
        kind: 'tool_use',
        name: 'bash',
        delayMs: 1_500,
        input: {
          command:
            "cd /mnt/memory/team-notes && printf 'drinks: coffee' > preferences.md && rm prefs.md prefs-copy.md && " +
            "printf -- '- preferences.md: what the team drinks' > _index.md",
        },
      },
      { kind: 'text', text: 'Merged the two preference files; the team drinks coffee now.' },
    );
    const created = await client.beta.dreams.create({
      inputs: [
        { type: 'memory_store', memory_store_id: storeId },
        { type: 'sessions', session_ids: [pastSessionId] },
      ],
      model: 'scripted-model',
      instructions: 'Focus on what the team drinks.',
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^drm_/),
      type: 'dream',
      status: 'pending',
      inputs: [
        { type: 'memory_store', memory_store_id: storeId },
        { type: 'sessions', session_ids: [pastSessionId] },
      ],
      outputs: [],
      model: { id: 'scripted-model', speed: 'standard' },
      instructions: 'Focus on what the team drinks.',
      output_behavior: { type: 'create_new' },
      session_id: expect.stringMatching(/^sesn_/),
      created_at: expect.any(String),
      ended_at: null,
      archived_at: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      error: null,
    });

    const { dream, seen } = await pollDream(created.id, (current) => current.status === 'completed');
    completed = dream;
    expect(seen).toContain('running');
    expect(seen.every((status) => ['pending', 'running', 'completed'].includes(status))).toBe(true);
    expect(dream.ended_at).not.toBeNull();
    expect(dream.usage.input_tokens).toBeGreaterThan(0);
    expect(dream.usage.output_tokens).toBeGreaterThan(0);
    expect(dream.outputs).toHaveLength(1);
    const outputId = dream.outputs[0]?.memory_store_id ?? '';
    expect(outputId).toMatch(/^memstore_/);
    expect(outputId).not.toBe(storeId);

    // The output store holds the reorganised memory; the input store is as it was.
    const output = await client.beta.memoryStores.memories.list(outputId, { view: 'full' });
    expect(output.data.map((item) => [item.path, item.type === 'memory' ? item.content : null])).toEqual([
      ['/_index.md', '- preferences.md: what the team drinks'],
      ['/preferences.md', 'drinks: coffee'],
    ]);
    const input = await client.beta.memoryStores.memories.list(storeId, { view: 'full' });
    expect(input.data.map((item) => [item.path, item.type === 'memory' ? item.content : null])).toEqual([
      ['/prefs-copy.md', 'drinks: tea (again)'],
      ['/prefs.md', 'drinks: tea'],
    ]);
    expect((await client.beta.memoryStores.retrieve(outputId)).name).toBe('Team Notes');

    // The session was told what to do: the fixed prompt, the instructions, and the past session's transcript.
    const request = harness.model.requests.find((recorded) =>
      JSON.stringify(recorded.body.system ?? '').includes('You are dreaming'),
    );
    const system = JSON.stringify(request?.body.system ?? '');
    expect(system).toContain(JSON.stringify(DREAM_SYSTEM_PROMPT.split('\n')[0]).slice(1, -1));
    expect(system).toContain('Focus on what the team drinks.');
    const firstMessage = JSON.stringify(request?.body.messages[0] ?? '');
    expect(firstMessage).toContain('/mnt/memory/team-notes');
    expect(firstMessage).toContain(`<session id=\\"${pastSessionId}\\">`);
    expect(firstMessage).toContain('I switched from tea to coffee.');

    // A completed dream cannot be canceled, and stays completed.
    expect((await rejection(client.beta.dreams.cancel(dream.id))).status).toBe(400);
    expect(await client.beta.dreams.retrieve(dream.id)).toEqual(dream);
  }, 120_000);

  it('cancel stops a running dream: canceled, its session ended; archive refuses a running dream', async () => {
    harness.model.enqueue({ kind: 'hang' });
    const created = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: storeId }],
      model: { id: 'scripted-model', speed: 'standard' },
    });
    expect(created.instructions).toBeNull();
    await pollDream(created.id, (current) => current.status === 'running');
    expect((await rejection(client.beta.dreams.archive(created.id))).status).toBe(400);

    canceled = await client.beta.dreams.cancel(created.id);
    expect(canceled).toMatchObject({ id: created.id, status: 'canceled', error: null });
    expect(canceled.ended_at).not.toBeNull();
    expect(canceled.outputs).toHaveLength(1);
    expect((await client.beta.sessions.retrieve(created.session_id ?? '')).status).toBe('terminated');
    // Canceling again answers it unchanged; it stays canceled.
    expect(await client.beta.dreams.cancel(created.id)).toEqual(canceled);
    expect(await client.beta.dreams.retrieve(created.id)).toEqual(canceled);
  }, 120_000);

  it('a dream whose session fails is failed with an error', async () => {
    harness.model.enqueue({ kind: 'error', status: 400, message: 'the dream request is bad' });
    const created = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: storeId }],
      model: 'scripted-model',
    });
    const { dream } = await pollDream(created.id, (current) => current.status === 'failed');
    expect(dream.error).toEqual({ type: expect.any(String), message: expect.stringContaining('stopped') });
    expect(dream.ended_at).not.toBeNull();
  }, 120_000);

  it('list: newest first, archived left out unless asked, filtered by status and time, paged', async () => {
    const archived = await client.beta.dreams.archive(canceled.id);
    expect(archived.archived_at).not.toBeNull();
    expect(await client.beta.dreams.archive(canceled.id)).toEqual(archived);
    expect((await client.beta.dreams.retrieve(canceled.id)).archived_at).toBe(archived.archived_at);

    const listed = (await client.beta.dreams.list()).data;
    expect(listed.map((dream) => dream.id)).not.toContain(canceled.id);
    expect(listed.at(-1)).toEqual(completed);
    const all: BetaDream[] = [];
    for await (const dream of client.beta.dreams.list({ include_archived: true, limit: 1 })) all.push(dream);
    expect(all).toHaveLength(3);
    expect(all.map((dream) => dream.created_at)).toEqual(
      all
        .map((dream) => dream.created_at)
        .sort()
        .reverse(),
    );
    expect(all.map((dream) => dream.id)).toContain(canceled.id);

    const done = await client.beta.dreams.list({ statuses: ['completed', 'canceled'], include_archived: true });
    expect(done.data.map((dream) => dream.status).sort()).toEqual(['canceled', 'completed']);
    const after = await client.beta.dreams.list({ 'created_at[gt]': completed.created_at, include_archived: true });
    expect(after.data.map((dream) => dream.id)).not.toContain(completed.id);
    expect(after.data).toHaveLength(2);
    const before = await client.beta.dreams.list({
      'created_at[lt]': all[1]?.created_at ?? '',
      include_archived: true,
    });
    expect(before.data.map((dream) => dream.id)).toEqual([completed.id]);
  }, 60_000);

  it('create refuses bad requests with 400 or 404 naming the field', async () => {
    const archivedStore = await client.beta.memoryStores.create({ name: 'old' });
    await client.beta.memoryStores.archive(archivedStore.id);
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ inputs: [], model: 'scripted-model' }, 400, 'inputs'],
      [
        {
          inputs: [
            { type: 'memory_store', memory_store_id: storeId },
            { type: 'memory_store', memory_store_id: storeId },
          ],
          model: 'scripted-model',
        },
        400,
        'inputs',
      ],
      [
        { inputs: [{ type: 'memory_store', memory_store_id: 'memstore_0123456789abcdef' }], model: 'm' },
        404,
        'inputs[0]',
      ],
      [{ inputs: [{ type: 'memory_store', memory_store_id: 'nope' }], model: 'm' }, 400, 'inputs[0].memory_store_id'],
      [{ inputs: [{ type: 'memory_store', memory_store_id: archivedStore.id }], model: 'm' }, 400, 'archived'],
      [
        {
          inputs: [
            { type: 'memory_store', memory_store_id: storeId },
            { type: 'sessions', session_ids: ['sesn_unknown0123456789'] },
          ],
          model: 'm',
        },
        404,
        'inputs[1].session_ids[0]',
      ],
      [
        {
          inputs: [
            { type: 'memory_store', memory_store_id: storeId },
            { type: 'sessions', session_ids: [pastSessionId, pastSessionId] },
          ],
          model: 'm',
        },
        400,
        'inputs[1].session_ids',
      ],
      [
        { inputs: [{ type: 'memory_store', memory_store_id: storeId }], model: { id: 'm', speed: 'fast' } },
        400,
        'speed',
      ],
      [{ inputs: [{ type: 'memory_store', memory_store_id: storeId }], model: '' }, 400, 'model'],
      [
        { inputs: [{ type: 'memory_store', memory_store_id: storeId }], model: 'm', instructions: '' },
        400,
        'instructions',
      ],
      [
        { inputs: [{ type: 'memory_store', memory_store_id: storeId }], model: 'm', instructions: 'x'.repeat(4_097) },
        400,
        'instructions',
      ],
      [
        {
          inputs: [{ type: 'memory_store', memory_store_id: storeId }],
          model: 'm',
          output_behavior: { type: 'update_existing', memory_store_id: archivedStore.id },
        },
        400,
        'output_behavior.memory_store_id',
      ],
      [{ inputs: [{ type: 'memory_store', memory_store_id: storeId }], model: 'm', extra: 1 }, 400, 'extra'],
    ];
    for (const [body, status, field] of cases) {
      const error = await rejection(client.beta.dreams.create(body as never));
      expect([JSON.stringify(body).slice(0, 120), error.status]).toEqual([JSON.stringify(body).slice(0, 120), status]);
      expect(error.message).toContain(field);
    }
    expect((await rejection(client.beta.dreams.retrieve('drm_0123456789abcdefghij'))).status).toBe(404);
    expect((await rejection(client.beta.dreams.retrieve('nope'))).status).toBe(400);
    expect((await rejection(client.beta.dreams.cancel('drm_0123456789abcdefghij'))).status).toBe(404);
  }, 60_000);
});

describe('dreams with output_behavior update_existing', () => {
  it('write into the input store; a second one on the same store is refused with 409 while the first runs', async () => {
    const store = await client.beta.memoryStores.create({ name: 'In Place' });
    await client.beta.memoryStores.memories.create(store.id, { path: '/a.md', content: 'one' });
    const inPlace = { type: 'update_existing' as const, memory_store_id: store.id };
    harness.model.enqueue({ kind: 'hang' });
    const first = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: store.id }],
      model: 'scripted-model',
      output_behavior: inPlace,
    });
    await pollDream(first.id, (current) => current.status === 'running');
    expect(first.output_behavior).toEqual(inPlace);
    const refused = await rejection(
      client.beta.dreams.create({
        inputs: [{ type: 'memory_store', memory_store_id: store.id }],
        model: 'scripted-model',
        output_behavior: inPlace,
      }),
    );
    expect([refused.status, refused.message]).toEqual([409, expect.stringContaining(first.id)]);
    expect((await client.beta.dreams.cancel(first.id)).status).toBe('canceled');

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: "printf 'two' > /mnt/memory/in-place/a.md" } },
      { kind: 'text', text: 'Updated.' },
    );
    const second = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: store.id }],
      model: 'scripted-model',
      output_behavior: inPlace,
    });
    const { dream } = await pollDream(second.id, (current) => current.status === 'completed');
    expect(dream.outputs).toEqual([{ type: 'memory_store', memory_store_id: store.id }]);
    const memories = await client.beta.memoryStores.memories.list(store.id, { view: 'full' });
    expect(memories.data.map((item) => [item.path, item.type === 'memory' ? item.content : null])).toEqual([
      ['/a.md', 'two'],
    ]);
  }, 120_000);
});

describe('dreams across a server restart', () => {
  it('a fresh server on the same store and Temporal reports the running dream, then completed, as the first does', async () => {
    harness.model.enqueue(
      {
        kind: 'tool_use',
        name: 'bash',
        delayMs: 2_000,
        input: { command: "printf 'x' > /mnt/memory/team-notes/x.md" },
      },
      { kind: 'text', text: 'Done.' },
    );
    const created = await client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: storeId }],
      model: 'scripted-model',
    });
    // A second server process state: its own store connection, caches and Temporal queries, nothing from the first.
    const store = openSqliteStore({ filename: storeFilePath(harness.config.dataDir) });
    const server = createServer({
      temporal: harness.stack.temporal,
      bus: new LiveEventBus(),
      blobs: harness.stack.blobs,
      apiKey: TEST_API_KEY,
      healthChecks: [],
      agent: defaultAgent(harness.config, false),
      limits: harness.config.limits,
      sandboxProvisioning: harness.config.sandbox.provisioning,
      store,
      files: { dataDir: harness.config.dataDir, maxBytes: harness.config.files.maxBytes },
    });
    try {
      const fresh = sdkClient(await server.listen({ host: '127.0.0.1', port: 0 }));
      expect(['pending', 'running']).toContain((await fresh.beta.dreams.retrieve(created.id)).status);
      const deadline = Date.now() + 60_000;
      let seen = await fresh.beta.dreams.retrieve(created.id);
      while (seen.status !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        seen = await fresh.beta.dreams.retrieve(created.id);
      }
      expect(seen.status).toBe('completed');
      expect(await client.beta.dreams.retrieve(created.id)).toEqual(seen);
    } finally {
      await server.close();
      await store.close();
    }
  }, 120_000);
});

describe('dreams on a PostgreSQL control plane', () => {
  it('the dreams table stores, lists newest first, updates and archives a dream', async () => {
    postgres ??= await startPostgres();
    const store = await openPostgresStore({ url: await postgres.createDatabase() });
    try {
      const dream = (id: string, createdAt: string): StoredDream => ({
        id,
        workspaceId: 'wrkspc_test',
        createdAt,
        updatedAt: createdAt,
        archivedAt: null,
        status: 'pending',
        inputs: [{ type: 'memory_store', memory_store_id: 'memstore_a' }],
        model: { id: 'm', speed: 'standard' },
        instructions: null,
        outputBehavior: { type: 'create_new' },
        outputMemoryStoreId: 'memstore_b',
        sessionId: 'sesn_x',
        endedAt: null,
        error: null,
        usage: { input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 3, cache_read_input_tokens: 4 },
      });
      await store.dreams.insert(dream('drm_one', '2026-01-01T00:00:00.000Z'));
      await store.dreams.insert(dream('drm_two', '2026-01-02T00:00:00.000Z'));
      expect(await store.dreams.get('drm_one')).toEqual(dream('drm_one', '2026-01-01T00:00:00.000Z'));
      const done = await store.dreams.update('drm_one', (current) => ({
        ...current,
        status: 'completed',
        endedAt: '2026-01-03T00:00:00.000Z',
        archivedAt: '2026-01-04T00:00:00.000Z',
      }));
      expect(done).toMatchObject({ status: 'completed', archivedAt: '2026-01-04T00:00:00.000Z' });
      const page = await store.dreams.list({
        limit: 10,
        cursor: null,
        includeArchived: false,
        workspaceId: 'wrkspc_test',
      });
      expect(page.items.map((item) => item.id)).toEqual(['drm_two']);
      const all = await store.dreams.list({ limit: 1, cursor: null, includeArchived: true });
      expect(all.items.map((item) => item.id)).toEqual(['drm_two']);
      const next = await store.dreams.list({ limit: 1, cursor: all.nextCursor, includeArchived: true });
      expect(next.items.map((item) => item.id)).toEqual(['drm_one']);
    } finally {
      await store.close();
    }
  }, 120_000);
});
