import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsMemory } from '@anthropic-ai/sdk/resources/beta/memory-stores/memories';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection, sdkClient } from './support/sdk';
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

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

describe('memoryStores: stores, memories and versions through the official SDK', () => {
  it('creates, updates, lists, archives and deletes stores, with memories, versions, preconditions and redaction', async () => {
    const store = await client.beta.memoryStores.create({
      name: 'User Preferences',
      description: 'What the user likes.',
      metadata: { owner: 'alice' },
    });
    expect(store).toMatchObject({
      id: expect.stringMatching(/^memstore_/),
      type: 'memory_store',
      name: 'User Preferences',
      description: 'What the user likes.',
      metadata: { owner: 'alice' },
      archived_at: null,
    });
    expect(await client.beta.memoryStores.retrieve(store.id)).toEqual(store);
    const renamed = await client.beta.memoryStores.update(store.id, { name: 'Prefs', metadata: { owner: null } });
    expect(renamed).toMatchObject({ name: 'Prefs', description: 'What the user likes.', metadata: {} });

    const notes = await client.beta.memoryStores.memories.create(store.id, { path: '/notes/todo.md', content: 'one' });
    expect(notes).toMatchObject({
      id: expect.stringMatching(/^mem_/),
      type: 'memory',
      memory_store_id: store.id,
      path: '/notes/todo.md',
      content: null,
      content_sha256: sha256('one'),
      content_size_bytes: 3,
      memory_version_id: expect.stringMatching(/^memver_/),
    });
    const full = await client.beta.memoryStores.memories.retrieve(notes.id, { memory_store_id: store.id });
    expect(full.content).toBe('one');

    // A path used, or overlapping another memory's, is a 409 memory_path_conflict_error naming the other memory.
    for (const path of ['/notes/todo.md', '/notes', '/notes/todo.md/deeper']) {
      const conflict = await rejection(client.beta.memoryStores.memories.create(store.id, { path, content: 'x' }));
      expect(conflict.status, path).toBe(409);
      expect(conflict.error, path).toMatchObject({
        error: {
          type: 'memory_path_conflict_error',
          conflicting_memory_id: notes.id,
          conflicting_path: '/notes/todo.md',
        },
      });
    }
    const badPath = await rejection(
      client.beta.memoryStores.memories.create(store.id, { path: 'x/../y', content: '' }),
    );
    expect(badPath.status).toBe(400);
    expect(badPath.message).toContain('path: must start with /');
    const tooBig = await rejection(
      client.beta.memoryStores.memories.create(store.id, { path: '/big.txt', content: 'x'.repeat(102_401) }),
    );
    expect(tooBig.status).toBe(400);
    expect(tooBig.message).toContain('content: must be at most 102400 bytes');

    // An update under a precondition applies while the hash holds, and is a 409 once it does not.
    const updated = await client.beta.memoryStores.memories.update(notes.id, {
      memory_store_id: store.id,
      content: 'two',
      precondition: { type: 'content_sha256', content_sha256: sha256('one') },
      view: 'full',
    });
    expect(updated).toMatchObject({ content: 'two', content_sha256: sha256('two') });
    expect(updated.memory_version_id).not.toBe(notes.memory_version_id);
    const stale = await rejection(
      client.beta.memoryStores.memories.update(notes.id, {
        memory_store_id: store.id,
        content: 'three',
        precondition: { type: 'content_sha256', content_sha256: sha256('one') },
      }),
    );
    expect(stale.status).toBe(409);
    expect(stale.error).toMatchObject({ error: { type: 'memory_precondition_failed_error' } });
    // Nothing changes: no version, and the precondition is not even looked at.
    const same = await client.beta.memoryStores.memories.update(notes.id, {
      memory_store_id: store.id,
      content: 'two',
      precondition: { type: 'content_sha256', content_sha256: sha256('one') },
    });
    expect(same.memory_version_id).toBe(updated.memory_version_id);
    const moved = await client.beta.memoryStores.memories.update(notes.id, {
      memory_store_id: store.id,
      path: '/archive/todo.md',
    });
    expect(moved).toMatchObject({ id: notes.id, path: '/archive/todo.md' });

    // Listing: every memory in path order, pages of one, depth 1 rolls directories up, a prefix drills in.
    const created: BetaManagedAgentsMemory[] = [];
    for (const path of ['/a.md', '/b/one.md', '/b/two.md', '/b/c/three.md']) {
      created.push(await client.beta.memoryStores.memories.create(store.id, { path, content: path }));
    }
    const paths: string[] = [];
    for await (const item of client.beta.memoryStores.memories.list(store.id, { limit: 1 })) paths.push(item.path);
    expect(paths).toEqual(['/a.md', '/archive/todo.md', '/b/c/three.md', '/b/one.md', '/b/two.md']);
    const top = await client.beta.memoryStores.memories.list(store.id, { depth: 1 });
    expect(top.data.map((item) => [item.type, item.path])).toEqual([
      ['memory', '/a.md'],
      ['memory_prefix', '/archive/'],
      ['memory_prefix', '/b/'],
    ]);
    const rolled: string[] = [];
    for await (const item of client.beta.memoryStores.memories.list(store.id, {
      path_prefix: '/b/',
      depth: 1,
      limit: 1,
    })) {
      rolled.push(`${item.type}:${item.path}`);
    }
    expect(rolled).toEqual(['memory_prefix:/b/c/', 'memory:/b/one.md', 'memory:/b/two.md']);
    const withContent = await client.beta.memoryStores.memories.list(store.id, { path_prefix: '/b/', view: 'full' });
    expect(withContent.data.map((item) => (item.type === 'memory' ? item.content : null))).toEqual([
      '/b/c/three.md',
      '/b/one.md',
      '/b/two.md',
    ]);

    // Delete under a precondition, then the versions: created, modified twice, deleted, newest first.
    const wrongHash = await rejection(
      client.beta.memoryStores.memories.delete(notes.id, {
        memory_store_id: store.id,
        expected_content_sha256: sha256('x'),
      }),
    );
    expect(wrongHash.status).toBe(409);
    expect(
      await client.beta.memoryStores.memories.delete(notes.id, {
        memory_store_id: store.id,
        expected_content_sha256: sha256('two'),
      }),
    ).toEqual({ id: notes.id, type: 'memory_deleted' });
    const gone = await rejection(client.beta.memoryStores.memories.retrieve(notes.id, { memory_store_id: store.id }));
    expect(gone.status).toBe(404);
    const versions = await client.beta.memoryStores.memoryVersions.list(store.id, { memory_id: notes.id });
    expect(versions.data.map((version) => [version.operation, version.path, version.content])).toEqual([
      ['deleted', '/archive/todo.md', null],
      ['modified', '/archive/todo.md', null],
      ['modified', '/notes/todo.md', null],
      ['created', '/notes/todo.md', null],
    ]);
    expect(versions.data[0]).toMatchObject({ content_sha256: null, content_size_bytes: null });
    expect(versions.data[3]).toMatchObject({
      id: notes.memory_version_id,
      memory_id: notes.id,
      created_by: { type: 'api_actor', api_key_id: expect.stringMatching(/^apikey_/) },
      redacted_at: null,
    });
    const createdVersions = await client.beta.memoryStores.memoryVersions.list(store.id, { operation: 'created' });
    expect(createdVersions.data).toHaveLength(5);
    const version = await client.beta.memoryStores.memoryVersions.retrieve(notes.memory_version_id, {
      memory_store_id: store.id,
    });
    expect(version).toMatchObject({ operation: 'created', content: 'one', content_sha256: sha256('one') });
    const redacted = await client.beta.memoryStores.memoryVersions.redact(notes.memory_version_id, {
      memory_store_id: store.id,
    });
    expect(redacted).toMatchObject({
      content: null,
      path: null,
      content_sha256: null,
      content_size_bytes: null,
      redacted_at: expect.any(String),
      redacted_by: { type: 'api_actor' },
      created_by: { type: 'api_actor' },
    });
    expect(
      await client.beta.memoryStores.memoryVersions.retrieve(notes.memory_version_id, { memory_store_id: store.id }),
    ).toEqual(redacted);

    // Archived: readable, memories deletable, but no create or update, and out of the default list.
    const archived = await client.beta.memoryStores.archive(store.id);
    expect(archived.archived_at).not.toBeNull();
    const refused = await rejection(client.beta.memoryStores.memories.create(store.id, { path: '/n.md', content: '' }));
    expect(refused.status).toBe(409);
    expect(refused.message).toContain('archived');
    expect((await rejection(client.beta.memoryStores.update(store.id, { name: 'again' }))).status).toBe(409);
    const first = created[0];
    if (first === undefined) throw new Error('no memory created');
    await client.beta.memoryStores.memories.delete(first.id, { memory_store_id: store.id });
    const listed = await client.beta.memoryStores.list();
    expect(listed.data.map((item) => item.id)).not.toContain(store.id);
    const all = await client.beta.memoryStores.list({ include_archived: true });
    expect(all.data.map((item) => item.id)).toContain(store.id);

    expect(await client.beta.memoryStores.delete(store.id)).toEqual({ id: store.id, type: 'memory_store_deleted' });
    const deleted = await rejection(client.beta.memoryStores.retrieve(store.id));
    expect(deleted).toBeInstanceOf(Anthropic.NotFoundError);
    expect(deleted.message).toContain(`No memory store ${store.id}`);
  });

  it('pages stores newest first and refuses malformed ids and bodies naming the field', async () => {
    const ids: string[] = [];
    for (const name of ['page one', 'page two', 'page three'])
      ids.push((await client.beta.memoryStores.create({ name })).id);
    const seen: string[] = [];
    for await (const item of client.beta.memoryStores.list({ limit: 2 })) seen.push(item.id);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    const malformed = await rejection(client.beta.memoryStores.retrieve('vlt_notastore00000'));
    expect(malformed.status).toBe(400);
    expect(malformed.message).toContain('memory_store_id');
    const noName = await rejection(client.beta.memoryStores.create({ name: '' }));
    expect(noName.status).toBe(400);
    expect(noName.message).toContain('name: must be 1 to 255 characters');
    const unknownField = await rejection(
      client.beta.memoryStores.create({ name: 'x', colour: 'blue' } as unknown as { name: string }),
    );
    expect(unknownField.message).toContain('colour: unknown field');
  });
});
