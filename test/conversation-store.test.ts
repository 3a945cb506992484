import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConversationStore } from '../activities/storage/conversation-store';
import { BLOB_PREFIXES } from '../common/blob-store';
import type { ConversationRef, StoredBlock } from '../common/conversation';
import type { MessageParam } from '../common/model';
import { contentKey } from '../storage/content-key';
import { FolderBlobStore } from '../storage/folder-blob-store';

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'keel-conversation-store-'));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

// A store as a worker that has seen nothing yet has it: its own caches, the shared folder.
function coldStore(): ConversationStore {
  return new ConversationStore(new FolderBlobStore(folder));
}

function toolUse(id: string, command: string): StoredBlock {
  return { type: 'tool_use', id, name: 'bash', input: { command }, caller: { type: 'direct' } };
}

// About 2 KB of tool output that differs from step to step.
function toolOutput(step: number): string {
  return `step ${step}\n${`line of output for step ${step}\n`.repeat(80)}`.slice(0, 2_048);
}

async function folderBytes(root: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
    files += 1;
  }
  return { bytes, files };
}

// A first user message, then one assistant tool call answered by one tool result and a closing text.
async function appendSmallConversation(store: ConversationStore): Promise<ConversationRef> {
  let ref: ConversationRef = { head: null };
  ref = await store.append(ref, 'user', [{ type: 'text', text: 'List the files.' }]);
  ref = await store.append(ref, 'assistant', [{ type: 'text', text: 'Listing.' }, toolUse('toolu_1', 'ls')]);
  ref = await store.append(ref, 'user', [
    { type: 'tool_result', tool_use_id: 'toolu_1', is_error: false, content: 'a.txt' },
  ]);
  ref = await store.append(ref, 'user', [{ type: 'text', text: 'Now count them.' }]);
  return ref;
}

const smallConversation: MessageParam[] = [
  { role: 'user', content: [{ type: 'text', text: 'List the files.' }] },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Listing.' },
      { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls' }, caller: { type: 'direct' } },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 'toolu_1', is_error: false, content: 'a.txt' },
      { type: 'text', text: 'Now count them.' },
    ],
  },
];

describe('ConversationStore.append and messages', () => {
  it('reads back appended fragments as messages, consecutive fragments of one role merged into one message', async () => {
    const store = coldStore();
    const ref = await appendSmallConversation(store);
    expect(ref.head?.startsWith(BLOB_PREFIXES.conversation)).toBe(true);
    expect(await store.messages(ref)).toEqual(smallConversation);
  });

  it('reads an empty conversation (no head) as no messages', async () => {
    expect(await coldStore().messages({ head: null })).toEqual([]);
  });

  it('reads the same messages from a second store on the same folder that walks the chain (a cold worker)', async () => {
    const ref = await appendSmallConversation(coldStore());
    const cold = coldStore();
    expect(await cold.messages(ref)).toEqual(smallConversation);
    // A later head read by the cold store reuses the messages it assembled, and still merges correctly.
    const next = await coldStore().append(ref, 'assistant', [{ type: 'text', text: 'There is one file.' }]);
    expect(await cold.messages(next)).toEqual([
      ...smallConversation,
      { role: 'assistant', content: [{ type: 'text', text: 'There is one file.' }] },
    ]);
  });

  it('keeps each earlier head readable as it was: appending never changes what a head means', async () => {
    const store = coldStore();
    const first = await store.append({ head: null }, 'user', [{ type: 'text', text: 'one' }]);
    const before = structuredClone(await store.messages(first));
    await store.append(first, 'user', [{ type: 'text', text: 'two' }]);
    expect(await store.messages(first)).toEqual(before);
    expect(await coldStore().messages(first)).toEqual(before);
  });

  it('throws a clear error for a head whose segment is not stored', async () => {
    const missing = contentKey(BLOB_PREFIXES.conversation, 'nothing here');
    await expect(coldStore().messages({ head: missing })).rejects.toThrow(
      `The conversation store has no segment ${missing}.`,
    );
  });
});

describe('ConversationStore.appendAdditions', () => {
  it('stores the additions as one user fragment and resolves tool_result_ref from the stored text', async () => {
    const store = coldStore();
    const output = `big output\n${'0123456789'.repeat(5_000)}`;
    const outputKey = await store.storeText(output);
    let ref = await store.append({ head: null }, 'user', [{ type: 'text', text: 'Run both.' }]);
    ref = await store.append(ref, 'assistant', [toolUse('toolu_1', 'cat big'), toolUse('toolu_2', 'true')]);
    ref = await store.appendAdditions(ref, [
      { kind: 'tool_result_ref', toolUseId: 'toolu_1', isError: false, contentKey: outputKey, chars: output.length },
      { kind: 'tool_result', toolUseId: 'toolu_2', isError: false, text: '' },
      { kind: 'user_text', text: 'Thanks.' },
    ]);
    const expected = {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', is_error: false, content: output },
        { type: 'tool_result', tool_use_id: 'toolu_2', is_error: false, content: '(no output)' },
        { type: 'text', text: 'Thanks.' },
      ],
    };
    expect((await store.messages(ref)).at(-1)).toEqual(expected);
    expect((await coldStore().messages(ref)).at(-1)).toEqual(expected);
  });

  it('stores the output by reference only: the segment holds the key, not the text', async () => {
    const store = coldStore();
    const output = 'q'.repeat(100_000);
    const outputKey = await store.storeText(output);
    const before = await folderBytes(folder);
    await store.appendAdditions({ head: null }, [
      { kind: 'tool_result_ref', toolUseId: 'toolu_1', isError: false, contentKey: outputKey, chars: output.length },
    ]);
    const after = await folderBytes(folder);
    expect(after.files - before.files).toBe(1);
    expect(after.bytes - before.bytes).toBeLessThan(1_000);
  });

  it('returns the same ref and writes nothing when there are no additions', async () => {
    const store = coldStore();
    const ref = await store.append({ head: null }, 'user', [{ type: 'text', text: 'hi' }]);
    const before = await folderBytes(folder);
    expect(await store.appendAdditions(ref, [])).toBe(ref);
    expect(await folderBytes(folder)).toEqual(before);
  });
});

describe('ConversationStore content addressing', () => {
  it('gives the same content the same keys, from any store, and writes no new file for it', async () => {
    const first = await appendSmallConversation(coldStore());
    const before = await folderBytes(folder);
    const second = await appendSmallConversation(coldStore());
    expect(second).toEqual(first);
    expect(await folderBytes(folder)).toEqual(before);
    expect(await coldStore().storeText('same text')).toBe(await coldStore().storeText('same text'));
  });

  it('gives the same fragment after a different parent a different key', async () => {
    const store = coldStore();
    const one = await store.append({ head: null }, 'user', [{ type: 'text', text: 'one' }]);
    const two = await store.append({ head: null }, 'user', [{ type: 'text', text: 'two' }]);
    const afterOne = await store.append(one, 'assistant', [{ type: 'text', text: 'ok' }]);
    const afterTwo = await store.append(two, 'assistant', [{ type: 'text', text: 'ok' }]);
    expect(afterOne.head).not.toBe(afterTwo.head);
  });

  it('keys a tool output by the SHA-256 of its UTF-8 bytes under the tool-output prefix', async () => {
    const text = 'héllo wörld ✓';
    const key = await coldStore().storeText(text);
    expect(key).toBe(contentKey(BLOB_PREFIXES.toolOutput, Buffer.from(text, 'utf8')));
    expect(key).toMatch(/^tool-output\/[0-9a-f]{64}$/);
  });

  it('writes about the content of each appended step, never the conversation again', async () => {
    const store = coldStore();
    let ref = await store.append({ head: null }, 'user', [{ type: 'text', text: 'Build it.' }]);
    const before = await folderBytes(folder);
    let newContentBytes = 0;
    const bytesPerStep: number[] = [];
    for (let step = 1; step <= 100; step++) {
      const measured = step === 1 || step === 100;
      const stepStart = measured ? await folderBytes(folder) : null;
      const call = toolUse(`toolu_${step}`, `make part-${step}`);
      const output = toolOutput(step);
      ref = await store.append(ref, 'assistant', [call]);
      const outputKey = await store.storeText(output);
      ref = await store.appendAdditions(ref, [
        {
          kind: 'tool_result_ref',
          toolUseId: `toolu_${step}`,
          isError: false,
          contentKey: outputKey,
          chars: output.length,
        },
      ]);
      newContentBytes += Buffer.byteLength(output) + Buffer.byteLength(JSON.stringify(call));
      if (stepStart !== null) bytesPerStep.push((await folderBytes(folder)).bytes - stepStart.bytes);
    }
    const written = (await folderBytes(folder)).bytes - before.bytes;
    expect(written).toBeLessThanOrEqual(3 * newContentBytes);
    // The hundredth step costs what the first did: nothing grows with the number of steps.
    expect(bytesPerStep.at(-1)).toBeLessThanOrEqual((bytesPerStep[0] ?? 0) + 100);
    const messages = await coldStore().messages(ref);
    expect(messages).toHaveLength(201);
    expect(messages.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_100', is_error: false, content: toolOutput(100) }],
    });
  });
});

describe('ConversationStore.storeText and readText', () => {
  it('reads back the stored text, from the same store and from a cold one', async () => {
    const text = `line one\nline two ✓\n${'x'.repeat(70_000)}`;
    const key = await coldStore().storeText(text);
    expect(await coldStore().readText(key)).toBe(text);
    const store = coldStore();
    expect(await store.readText(await store.storeText(text))).toBe(text);
  });

  it('stores the empty text and reads it back', async () => {
    const store = coldStore();
    expect(await coldStore().readText(await store.storeText(''))).toBe('');
  });

  it('throws a clear error for a key that was never stored', async () => {
    const missing = contentKey(BLOB_PREFIXES.toolOutput, 'never stored');
    await expect(coldStore().readText(missing)).rejects.toThrow(
      `The conversation store has no tool output ${missing}.`,
    );
  });
});

describe('ConversationStore.appendMessages', () => {
  it('stores whole messages as a new chain, string content as one text block', async () => {
    const store = coldStore();
    const messages: MessageParam[] = [
      { role: 'user', content: 'Summary of what came before.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Continuing.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Go on.' }] },
    ];
    const ref = await store.appendMessages({ head: null }, messages);
    expect(await coldStore().messages(ref)).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Summary of what came before.' }] },
      messages[1],
      messages[2],
    ]);
  });
});
