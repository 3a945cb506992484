import { describe, expect, it } from 'vitest';
import {
  decideMemoryWrite,
  memoryContentSha256,
  memoryMountDirectory,
  memoryPathAncestors,
  memoryPathProblem,
  planMemorySync,
} from '../common/memory';
import type { StoredMemory } from '../common/memory';
import { memorySystemNote, withMemoryNote } from '../server/memory-stores/memory-system-note';
import type { SessionMemoryStoreResourceRecord } from '../common/session';

const memory = (id: string, path: string, content: string): StoredMemory => ({
  id,
  memoryStoreId: 'memstore_x',
  path,
  content,
  contentSha256: memoryContentSha256(content),
  contentSizeBytes: Buffer.byteLength(content),
  memoryVersionId: `memver_${id}`,
  createdAt: 't0',
  updatedAt: 't0',
});

describe('memory helpers: paths, mount directories, write decisions and sandbox sync plans', () => {
  it('memoryPathProblem: accepts /a/b.md, refuses relative, empty, dot and over-long paths, and non-NFC text', () => {
    expect(memoryPathProblem('/projects/foo/notes.md')).toBeNull();
    expect(memoryPathProblem('notes.md')).toBe('must start with /');
    expect(memoryPathProblem('/a//b')).toBe('segments must not be empty, . or ..');
    expect(memoryPathProblem('/a/../b')).toBe('segments must not be empty, . or ..');
    expect(memoryPathProblem(`/${'a/'.repeat(20)}b`)).toBe('must have at most 20 segments');
    expect(memoryPathProblem(`/${'x'.repeat(1024)}`)).toBe('must be at most 1024 bytes');
    expect(memoryPathProblem('/cafe\u0301')).toBe('must be in Unicode Normalization Form C');
    expect(memoryPathProblem('/a\u0007')).toBe('must not contain control or format characters');
    expect(memoryPathAncestors('/a/b/c.md')).toEqual(['/a', '/a/b']);
  });

  it('memoryMountDirectory: lowercases and joins runs of other characters into one hyphen', () => {
    expect(memoryMountDirectory('User Preferences')).toBe('user-preferences');
    expect(memoryMountDirectory('  Team__Notes!! 2026 ')).toBe('team-notes-2026');
    expect(memoryMountDirectory('日本')).toBe('memory');
  });

  it('decideMemoryWrite: no version for a no-op update (its precondition unchecked), 409 for a stale hash', () => {
    const current = memory('mem_1', '/a.md', 'one');
    const context = { versionId: 'memver_2', at: 't1', actor: null };
    const stale = 'f'.repeat(64);
    expect(
      decideMemoryWrite(
        'memstore_x',
        current,
        { op: 'update', memoryId: 'mem_1', content: 'one', expectedContentSha256: stale },
        context,
      ),
    ).toEqual({ kind: 'unchanged', memory: current });
    expect(
      decideMemoryWrite(
        'memstore_x',
        current,
        { op: 'update', memoryId: 'mem_1', content: 'two', expectedContentSha256: stale },
        context,
      ),
    ).toEqual({ kind: 'refused', reason: 'precondition_failed' });
    expect(decideMemoryWrite('memstore_x', current, { op: 'delete', memoryId: 'mem_1' }, context)).toMatchObject({
      kind: 'write',
      memory: null,
      version: { operation: 'deleted', path: '/a.md', content: null, contentSha256: null },
    });
  });

  it('planMemorySync: creates, modifies and deletes, but only the touched paths when given', () => {
    const stored = [
      memory('mem_1', '/keep.md', 'same'),
      memory('mem_2', '/edit.md', 'old'),
      memory('mem_3', '/gone.md', 'x'),
    ];
    const files = [
      { path: '/keep.md', content: 'same' },
      { path: '/edit.md', content: 'new' },
      { path: '/new.md', content: 'fresh' },
    ];
    expect(planMemorySync(stored, files, () => 'mem_new')).toEqual([
      { op: 'update', memoryId: 'mem_2', content: 'new' },
      { op: 'create', memoryId: 'mem_new', path: '/new.md', content: 'fresh' },
      { op: 'delete', memoryId: 'mem_3' },
    ]);
    expect(planMemorySync(stored, files, () => 'mem_new', new Set(['/new.md']))).toEqual([
      { op: 'create', memoryId: 'mem_new', path: '/new.md', content: 'fresh' },
    ]);
  });

  it('memorySystemNote: names each mount, its access, description and instructions, after the agent system prompt', () => {
    const mount: SessionMemoryStoreResourceRecord = {
      id: 'sesrsc_1',
      type: 'memory_store',
      memory_store_id: 'memstore_1',
      name: 'Prefs',
      description: 'What the user likes.',
      mount_path: '/mnt/memory/prefs',
      access: 'read_only',
      instructions: 'Check before answering.',
    };
    const note = memorySystemNote([mount]);
    expect(note).toContain('## /mnt/memory/prefs (read-only): Prefs');
    expect(note).toContain('What the user likes.');
    expect(note).toContain('Instructions: Check before answering.');
    expect(memorySystemNote([])).toBe('');
    const agent = { id: null, version: 1, name: 'a', model: 'm', system: 'Be brief.', maxTokens: 1, tools: [] };
    expect(withMemoryNote(agent, [mount]).system).toBe(`Be brief.\n\n${note}`);
    expect(withMemoryNote(agent, [])).toBe(agent);
  });
});
