import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsMemoryStoreResource } from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryVolumeName, SANDBOX_LABELS, sandboxContainerName } from '../common/sandbox';
import { startPostgres } from './support/postgres';
import type { PrivatePostgres } from './support/postgres';
import { rejection, sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack } from './support/test-stack';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let postgres: PrivatePostgres | undefined;

afterAll(async () => {
  await postgres?.stop();
});

/** Runs `command` in the session's sandbox through a bash turn and returns the tool result's text. */
async function runBash(sessionId: string, command: string): Promise<string> {
  harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command } }, { kind: 'text', text: 'ran it' });
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: `run ${command}` }] }],
  });
  const events = await untilIdleAfter(client, sessionId, sent.data?.[0]?.id);
  const result = events.filter((event) => event.type === 'agent.tool_result').at(-1);
  return JSON.stringify(result?.content ?? []);
}

describe.each([
  ['SQLite', (): Promise<Record<string, string>> => Promise.resolve({})],
  [
    'PostgreSQL',
    async (): Promise<Record<string, string>> => {
      postgres ??= await startPostgres();
      return { KEEL_DATABASE_URL: await postgres.createDatabase() };
    },
  ],
] as const)(
  'memory_store session resources on a %s control plane: mounted at /mnt/memory/<name>, written back by the session',
  (name, environment) => {
    beforeAll(async () => {
      harness = await startTestStack({ environment: await environment() });
      client = sdkClient(harness.stack.apiUrl);
    }, 120_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('a read_write session writes a memory, a second read_only session reads it and cannot write', async () => {
      expect(harness.config.database.kind).toBe(name === 'PostgreSQL' ? 'postgres' : 'sqlite');
      const store = await client.beta.memoryStores.create({
        name: 'Team Notes!',
        description: 'What the team decided.',
      });
      await client.beta.memoryStores.memories.create(store.id, { path: '/seed/readme.md', content: 'seeded text' });
      const agent = await client.beta.agents.create({
        name: 'memory',
        model: 'scripted-model',
        system: 'Be brief.',
        tools: [{ type: 'agent_toolset_20260401' }],
      });
      const environment = await client.beta.environments.create({ name: 'memory env', config: { type: 'cloud' } });

      const writer = await client.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        resources: [{ type: 'memory_store', memory_store_id: store.id, instructions: 'Keep one file per topic.' }],
      });
      const attached = writer.resources[0] as BetaManagedAgentsMemoryStoreResource & { id: string };
      expect(attached).toEqual({
        id: expect.stringMatching(/^sesrsc_/),
        type: 'memory_store',
        memory_store_id: store.id,
        name: 'Team Notes!',
        description: 'What the team decided.',
        mount_path: '/mnt/memory/team-notes',
        access: 'read_write',
        instructions: 'Keep one file per topic.',
      });
      expect(await client.beta.sessions.resources.retrieve(attached.id, { session_id: writer.id })).toEqual(attached);
      expect((await client.beta.sessions.resources.list(writer.id)).data).toEqual([attached]);
      // The session's agent keeps its own system prompt; the model gets the memory note after it.
      expect(writer.agent.system).toBe('Be brief.');

      const written = await runBash(
        writer.id,
        "cat /mnt/memory/team-notes/seed/readme.md; printf 'remember: blue' > /mnt/memory/team-notes/notes.md",
      );
      expect(written).toContain('seeded text');
      const system = JSON.stringify(harness.model.requests.at(-1)?.body.system ?? '');
      expect(system).toContain('Be brief.');
      expect(system).toContain('/mnt/memory/team-notes (read and write): Team Notes!');
      expect(system).toContain('Keep one file per topic.');

      const memories = await client.beta.memoryStores.memories.list(store.id, { view: 'full' });
      const notes = memories.data.find((item) => item.path === '/notes.md');
      expect(notes).toMatchObject({ type: 'memory', content: 'remember: blue' });
      const versions = await client.beta.memoryStores.memoryVersions.list(store.id, { session_id: writer.id });
      expect(versions.data.map((version) => [version.operation, version.path, version.created_by])).toEqual([
        ['created', '/notes.md', { type: 'session_actor', session_id: writer.id }],
      ]);

      // An edit through the API while the session runs is not undone by the session's next write.
      await client.beta.memoryStores.memories.create(store.id, { path: '/from-api.md', content: 'api' });
      await runBash(
        writer.id,
        "printf 'remember: green' > /mnt/memory/team-notes/notes.md; rm -r /mnt/memory/team-notes/seed",
      );
      const after = await client.beta.memoryStores.memories.list(store.id, { view: 'full' });
      expect(after.data.map((item) => [item.path, item.type === 'memory' ? item.content : null])).toEqual([
        ['/from-api.md', 'api'],
        ['/notes.md', 'remember: green'],
      ]);
      const byWriter = await client.beta.memoryStores.memoryVersions.list(store.id, { session_id: writer.id });
      expect(byWriter.data.map((version) => version.operation).sort()).toEqual(['created', 'deleted', 'modified']);

      // The write tool's changes are kept too; a file that cannot be a memory (over 100 kB) is left out, and said so.
      harness.model.enqueue(
        {
          kind: 'tool_use',
          name: 'write',
          input: { file_path: '/mnt/memory/team-notes/topics/colour.md', content: 'teal' },
        },
        { kind: 'text', text: 'wrote it' },
      );
      const wrote = await client.beta.sessions.events.send(writer.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: 'write it' }] }],
      });
      await untilIdleAfter(client, writer.id, wrote.data?.[0]?.id);
      const big = await runBash(writer.id, 'head -c 150000 /dev/zero | tr "\\0" a > /mnt/memory/team-notes/big.txt');
      expect(big).toContain('not kept in the memory store at /mnt/memory/team-notes');
      expect(big).toContain('/big.txt');
      const withTopic = await client.beta.memoryStores.memories.list(store.id, {
        path_prefix: '/topics/',
        view: 'full',
      });
      expect(withTopic.data.map((item) => [item.path, item.type === 'memory' ? item.content : null])).toEqual([
        ['/topics/colour.md', 'teal'],
      ]);
      await runBash(writer.id, 'rm -r /mnt/memory/team-notes/topics /mnt/memory/team-notes/big.txt');

      // A replaced container (cattle) mounts the stores afresh: it sees an API edit made since, in a new memory volume.
      const notesMemory = after.data.find((item) => item.path === '/notes.md');
      if (notesMemory?.type !== 'memory') throw new Error('no /notes.md memory');
      await client.beta.memoryStores.memories.update(notesMemory.id, {
        memory_store_id: store.id,
        content: 'from the API',
      });
      await harness.docker.getContainer(sandboxContainerName(writer.id)).remove({ force: true });
      expect(await runBash(writer.id, 'cat /mnt/memory/team-notes/notes.md; ls /mnt/memory/team-notes')).toContain(
        'from the API',
      );
      const volume = await harness.docker.getVolume(memoryVolumeName(writer.id)).inspect();
      expect(volume.Labels).toMatchObject({ [SANDBOX_LABELS.session]: writer.id });
      expect(volume.Options).toMatchObject({ type: 'tmpfs' });

      // Memory stores attach only at creation and stay attached.
      const added = await rejection(
        client.beta.sessions.resources.add(writer.id, {
          type: 'memory_store',
          memory_store_id: store.id,
        } as unknown as Parameters<typeof client.beta.sessions.resources.add>[1]),
      );
      expect(added.status).toBe(400);
      expect(added.message).toContain('attached only when the session is created');
      const removed = await rejection(client.beta.sessions.resources.delete(attached.id, { session_id: writer.id }));
      expect(removed.status).toBe(400);

      const reader = await client.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        resources: [{ type: 'memory_store', memory_store_id: store.id, access: 'read_only' }],
      });
      expect(reader.resources[0]).toMatchObject({ access: 'read_only', mount_path: '/mnt/memory/team-notes' });
      const read = await runBash(
        reader.id,
        'cat /mnt/memory/team-notes/notes.md; echo; echo stolen > /mnt/memory/team-notes/notes.md; ' +
          'echo new > /mnt/memory/team-notes/other.md; echo "exit=$?"',
      );
      expect(read).toContain('from the API');
      expect(read).toContain('Permission denied');
      expect(read).toContain('exit=1');
      const unchanged = await client.beta.memoryStores.memories.list(store.id, { view: 'full' });
      expect(unchanged.data.map((item) => [item.path, item.type === 'memory' ? item.content : null])).toEqual([
        ['/from-api.md', 'api'],
        ['/notes.md', 'from the API'],
      ]);
      expect((await client.beta.memoryStores.memoryVersions.list(store.id, { session_id: reader.id })).data).toEqual(
        [],
      );

      // sessions.list filters by the store: both sessions, and no other.
      const other = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
      const listed = await client.beta.sessions.list({ memory_store_id: store.id });
      expect(listed.data.map((session) => session.id).sort()).toEqual([writer.id, reader.id].sort());
      expect(listed.data.map((session) => session.id)).not.toContain(other.id);
      // The filter reads the sessions' own search attribute, so it reaches past the store's recent records.
      const described = await harness.stack.temporal.workflow.getHandle(writer.id).describe();
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.memoryStores)).toEqual([store.id]);
      const bySearchAttribute = await harness.stack.temporal.workflow.count(
        `WorkflowType = 'sessionWorkflow' AND KeelMemoryStores = '${store.id}'`,
      );
      expect(bySearchAttribute.count).toBe(2);

      // An archived store attaches to no new session.
      await client.beta.memoryStores.archive(store.id);
      const refused = await rejection(
        client.beta.sessions.create({
          agent: agent.id,
          environment_id: environment.id,
          resources: [{ type: 'memory_store', memory_store_id: store.id }],
        }),
      );
      expect(refused.status).toBe(400);
      expect(refused.message).toContain('resources[0].memory_store_id');
    });
  },
);
