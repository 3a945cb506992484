import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keptSystemContext, renderTranscript } from '../activities/model/compaction-plan';
import { withResolvedMedia } from '../activities/model/resolve-media';
import { additionFragments, ConversationStore } from '../activities/storage/conversation-store';
import type { MediaBlock } from '../common/events';
import { sniffDocumentMediaType, sniffImageMediaType } from '../common/media-type';
import {
  acceptsMidConversationSystem,
  DOCUMENT_TOKENS_ESTIMATE,
  estimateMediaTokens,
  IMAGE_TOKENS_ESTIMATE,
} from '../common/model-context';
import type { MessageParam } from '../common/model';
import { sendEventsBody } from '../server/sessions/events/event-request-schemas';
import { FolderBlobStore } from '../storage/folder-blob-store';
import { ConversationState } from '../workflows/conversation-state';

const PNG_HEAD = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const image = (data: string): MediaBlock => ({
  type: 'image',
  source: { type: 'base64', media_type: 'image/png', data },
});

describe('media types and model capabilities', () => {
  it('judges images and documents by their first bytes, not by what the uploader said', () => {
    expect(sniffImageMediaType(PNG_HEAD)).toBe('image/png');
    expect(sniffImageMediaType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageMediaType(Buffer.from('GIF89a'))).toBe('image/gif');
    expect(sniffImageMediaType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageMediaType(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
    expect(sniffImageMediaType(Buffer.from('%PDF-1.7'))).toBeNull();
    expect(sniffDocumentMediaType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(sniffDocumentMediaType(Buffer.from('notes, café'))).toBe('text/plain');
    // A character cut by the end of the bytes read is still text; a NUL or an invalid sequence is not.
    expect(sniffDocumentMediaType(Buffer.from('café').subarray(0, 4))).toBe('text/plain');
    expect(sniffDocumentMediaType(Uint8Array.from([0x61, 0, 0x62]))).toBeNull();
    expect(sniffDocumentMediaType(Uint8Array.from([0x61, 0xff, 0x62]))).toBeNull();
  });

  it('knows which models take mid-conversation system messages: Claude from Opus 4.8 on, and unknown names', () => {
    for (const model of [
      'claude-opus-4-8',
      'claude-opus-4-8-20260101',
      'claude-opus-4-10',
      'claude-sonnet-5',
      'my-model',
    ]) {
      expect(acceptsMidConversationSystem(model), model).toBe(true);
    }
    for (const model of [
      'claude-sonnet-4-5',
      'claude-sonnet-4-20250514',
      'claude-opus-4-7',
      'claude-3-5-haiku-latest',
    ]) {
      expect(acceptsMidConversationSystem(model), model).toBe(false);
    }
  });

  it('estimates media until the model reports: flat for images, by size for PDFs, by text for text documents', () => {
    expect(estimateMediaTokens(image('AAAA'))).toBe(IMAGE_TOKENS_ESTIMATE);
    const text = {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'x'.repeat(4000) },
    } as const;
    expect(estimateMediaTokens(text)).toBe(1000);
    const pdf = (chars: number): MediaBlock => ({
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: 'A'.repeat(chars) },
    });
    expect(estimateMediaTokens(pdf(100))).toBe(DOCUMENT_TOKENS_ESTIMATE);
    expect(estimateMediaTokens(pdf(4 * 1024 * 1024))).toBe(196_608);
    expect(estimateMediaTokens({ type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } })).toBe(
      DOCUMENT_TOKENS_ESTIMATE,
    );
  });
});

describe('a user message with media and a system message in the conversation', () => {
  it('adds text, media and the system text in order, and counts their estimate', () => {
    const state = ConversationState.empty();
    state.addUserMessage([{ type: 'text', text: 'look' }, image('AAAA')], [{ type: 'text', text: 'be brief' }]);
    const additions = state.modelInput().additions ?? [];
    expect(additions.map((addition) => addition.kind)).toEqual(['user_text', 'user_media', 'system_text']);
    expect(state.promptEstimate()).toBeGreaterThan(IMAGE_TOKENS_ESTIMATE);
  });

  it('stores user additions as one user fragment and the system text as a system fragment after it', () => {
    const fragments = additionFragments([
      { kind: 'tool_result', toolUseId: 'toolu_1', isError: false, text: 'ok' },
      { kind: 'user_text', text: 'look' },
      { kind: 'user_media', block: image('AAAA'), tokens: 1600 },
      { kind: 'system_text', text: 'be brief' },
    ]);
    expect(fragments.map((fragment) => [fragment.role, fragment.blocks.length])).toEqual([
      ['user', 3],
      ['system', 1],
    ]);
  });

  it('leaves out media and system text with the message they came with when compaction cannot make room', () => {
    const state = ConversationState.empty();
    state.addUserMessage([image('AAAA')], [{ type: 'text', text: 'be brief' }]);
    state.leaveOutAdditions();
    expect(state.modelInput().additions?.map((addition) => addition.kind)).toEqual(['user_text']);
  });

  it('keeps system messages out of the summary and verbatim after it', () => {
    const older: MessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: 'hello' }] },
      { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'hi' }] },
    ];
    expect(renderTranscript(older, 1000)).toEqual(['[user] hello', '[assistant] hi']);
    expect(keptSystemContext(older)).toEqual([{ role: 'system', content: [{ type: 'text', text: 'be brief' }] }]);
    expect(keptSystemContext(older.filter((message) => message.role !== 'system'))).toEqual([]);
  });
});

describe('stored system fragments and file sources at call time', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'keel-user-media-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('reads a stored system fragment back as a role system message between user and assistant', async () => {
    const store = new ConversationStore(new FolderBlobStore(folder));
    const ref = await store.appendAdditions({ head: null }, [
      { kind: 'user_text', text: 'look' },
      { kind: 'system_text', text: 'be brief' },
    ]);
    const replied = await store.append(ref, 'assistant', [{ type: 'text', text: 'ok', citations: null }]);
    const cold = new ConversationStore(new FolderBlobStore(folder));
    expect((await cold.messages(replied)).map((message) => message.role)).toEqual(['user', 'system', 'assistant']);
  });

  it('replaces file sources with the file content, and a deleted file with a note', async () => {
    const files: Record<string, Uint8Array> = {
      file_image0001: Buffer.concat([PNG_HEAD, Buffer.from('rest')]),
      file_pdf000001: Buffer.from('%PDF-1.4 body'),
      file_text00001: Buffer.from('plain words'),
    };
    const read = (fileId: string): Promise<Uint8Array | null> => Promise.resolve(files[fileId] ?? null);
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'file', file_id: 'file_image0001' } },
          { type: 'document', title: 'T', source: { type: 'file', file_id: 'file_pdf000001' } },
          { type: 'document', source: { type: 'file', file_id: 'file_text00001' } },
          { type: 'image', source: { type: 'file', file_id: 'file_gone00001' } },
        ],
      },
    ] as unknown as MessageParam[];
    const resolved = await withResolvedMedia(messages, read);
    expect(resolved[0]?.content).toEqual([
      {
        type: 'image',
        source: {
          type: 'base64',
          media_type: 'image/png',
          data: Buffer.from(files.file_image0001!).toString('base64'),
        },
      },
      {
        type: 'document',
        title: 'T',
        source: { type: 'base64', media_type: 'application/pdf', data: expect.any(String) },
      },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
      { type: 'text', text: '[The image file_gone00001 was deleted; its content is no longer available.]' },
    ]);
    // Messages without file sources are returned as they are.
    const plain: MessageParam[] = [{ role: 'user', content: 'hi' }];
    expect(await withResolvedMedia(plain, read)).toBe(plain);
  });
});

describe('the send-events body', () => {
  const message = { type: 'user.message', content: [{ type: 'text', text: 'hi' }] };
  const system = { type: 'system.message', content: [{ type: 'text', text: 'be brief' }] };

  it('takes a system.message only as the last event, right after a user.message or custom tool result', () => {
    expect(sendEventsBody.safeParse({ events: [message, system] }).success).toBe(true);
    expect(sendEventsBody.safeParse({ events: [system] }).success).toBe(false);
    expect(sendEventsBody.safeParse({ events: [message, system, system] }).success).toBe(false);
    expect(sendEventsBody.safeParse({ events: [{ type: 'user.interrupt' }, system] }).success).toBe(false);
    const answer = { type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_abc123', content: [] };
    expect(sendEventsBody.safeParse({ events: [answer, system] }).success).toBe(true);
  });

  it('refuses media that is not what the hosted API takes', () => {
    const send = (block: unknown): boolean =>
      sendEventsBody.safeParse({ events: [{ type: 'user.message', content: [block] }] }).success;
    expect(send(image('iVBORw0KGgo='))).toBe(true);
    expect(send(image('not base64!'))).toBe(false);
    expect(send({ type: 'image', source: { type: 'url', url: 'ftp://x.test/a.png' } })).toBe(false);
    expect(send({ type: 'image', source: { type: 'file', file_id: '../../etc/passwd' } })).toBe(false);
    expect(send({ type: 'document', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } })).toBe(false);
    expect(send({ type: 'redacted' })).toBe(false);
    expect(send(image('A'.repeat(5 * 1024 * 1024 + 4)))).toBe(false);
  });
});
