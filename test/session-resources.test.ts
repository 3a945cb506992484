import { toFile } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsFileResource } from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSessionEvents, rejection, sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

/** Runs `command` in the session's sandbox through a bash turn and returns the tool's output text. */
async function runBash(sessionId: string, command: string): Promise<string> {
  harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command } }, { kind: 'text', text: 'ran it' });
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: `run ${command}` }] }],
  });
  const events = await untilIdleAfter(client, sessionId, sent.data?.[0]?.id);
  const result = events.filter((event) => event.type === 'agent.tool_result').at(-1);
  return JSON.stringify(result?.content ?? []);
}

describe('sessions.resources: file resources added and removed while a session lives', () => {
  it('mounts an added file from the next tool call, unmounts a deleted one, and keeps the workspace', async () => {
    const alpha = await client.beta.files.upload({ file: await toFile(Buffer.from('alpha-content'), 'a.txt') });
    const beta = await client.beta.files.upload({ file: await toFile(Buffer.from('beta-content'), 'b.txt') });
    const agent = await client.beta.agents.create({
      name: 'resources',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environmentId = (await client.beta.environments.create({ name: 'res env', config: { type: 'cloud' } })).id;
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environmentId,
      resources: [{ type: 'file', file_id: alpha.id, mount_path: '/mnt/data/a.txt' }],
    });
    const first = session.resources[0] as BetaManagedAgentsFileResource | undefined;
    expect(first).toMatchObject({ type: 'file', file_id: alpha.id, mount_path: '/mnt/data/a.txt' });

    expect(await runBash(session.id, 'echo kept > /workspace/keep.txt; cat /mnt/data/a.txt')).toContain(
      'alpha-content',
    );

    const added = await client.beta.sessions.resources.add(session.id, {
      type: 'file',
      file_id: beta.id,
      mount_path: '/mnt/data/b.txt',
    });
    expect(added).toMatchObject({
      id: expect.stringMatching(/^sesrsc_/),
      type: 'file',
      file_id: beta.id,
      mount_path: '/mnt/data/b.txt',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const listed: string[] = [];
    for await (const resource of client.beta.sessions.resources.list(session.id, { limit: 1 })) {
      listed.push('id' in resource ? resource.id : '');
    }
    expect(listed).toEqual([first?.id, added.id]);
    expect(await client.beta.sessions.resources.retrieve(added.id, { session_id: session.id })).toEqual(added);
    expect((await client.beta.sessions.retrieve(session.id)).resources).toHaveLength(2);

    const both = await runBash(session.id, 'cat /mnt/data/b.txt /workspace/keep.txt /mnt/data/a.txt');
    expect(both).toContain('beta-content');
    expect(both).toContain('kept');
    expect(both).toContain('alpha-content');

    expect(await client.beta.sessions.resources.delete(first?.id ?? '', { session_id: session.id })).toEqual({
      id: first?.id,
      type: 'session_resource_deleted',
    });
    const after = await runBash(session.id, 'ls /mnt/data; cat /workspace/keep.txt');
    expect(after).toContain('b.txt');
    expect(after).not.toContain('a.txt');
    expect(after).toContain('kept');
    // The file itself is not deleted with the resource.
    expect((await client.beta.files.retrieveMetadata(alpha.id)).id).toBe(alpha.id);

    // Refusals name what is wrong and change nothing.
    const taken = await rejection(
      client.beta.sessions.resources.add(session.id, {
        type: 'file',
        file_id: alpha.id,
        mount_path: '/mnt/data/b.txt',
      }),
    );
    expect(taken.status).toBe(400);
    expect(taken.message).toContain('/mnt/data/b.txt is already used');
    const unknownFile = await rejection(
      client.beta.sessions.resources.add(session.id, { type: 'file', file_id: 'file_0000000000' }),
    );
    expect(unknownFile.status).toBe(404);
    const memory = await rejection(
      client.post(`/v1/sessions/${session.id}/resources`, {
        body: { type: 'memory_store', memory_store_id: 'memstore_0000000000' },
      }),
    );
    expect(memory.status).toBe(400);
    expect(memory.message).toContain('memory_store');
    const update = await rejection(
      client.beta.sessions.resources.update(added.id, { session_id: session.id, authorization_token: 'x' }),
    );
    expect(update.status).toBe(400);
    const gone = await rejection(client.beta.sessions.resources.delete(first?.id ?? '', { session_id: session.id }));
    expect(gone.status).toBe(404);
    expect(
      (await client.beta.sessions.retrieve(session.id)).resources.map((resource) =>
        'id' in resource ? resource.id : '',
      ),
    ).toEqual([added.id]);
    expect((await allSessionEvents(client, session.id)).some((event) => event.type === 'session.error')).toBe(false);

    await client.beta.sessions.delete(session.id);
    const ended = await rejection(
      client.beta.sessions.resources.add(session.id, { type: 'file', file_id: beta.id, mount_path: '/mnt/x' }),
    );
    expect(ended.status).toBe(409);
  });
});
