import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callModel } from '../activities/model/call-model';
import { ConversationStore } from '../activities/storage/conversation-store';
import type { BlobStore } from '../common/blob-store';
import { LiveEventBus } from '../common/live-events';
import { FolderBlobStore } from '../storage/folder-blob-store';
import { ScriptedModelServer } from './scripted-model-server';

let folder: string;
let model: ScriptedModelServer;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'keel-call-model-'));
  model = await ScriptedModelServer.start();
});

afterEach(async () => {
  await model.close();
  await rm(folder, { recursive: true, force: true });
});

/** A folder store whose puts of the model's reply (an assistant segment) fail. */
function storeFailingReplies(): BlobStore {
  const inner = new FolderBlobStore(folder);
  return {
    put: async (key, body) => {
      if (Buffer.from(body).toString('utf8').includes('"role":"assistant"')) throw new Error('disk full');
      await inner.put(key, body);
    },
    get: (key) => inner.get(key),
    putFile: (key, sourcePath) => inner.putFile(key, sourcePath),
    getFile: (key, targetPath) => inner.getFile(key, targetPath),
    delete: (key) => inner.delete(key),
  };
}

describe('callModel', () => {
  it("passes a failed store write on as it is, not as a failure of the model's endpoint", async () => {
    model.enqueue({ kind: 'text', text: 'hello' });
    const failure = await callModel(
      {
        sessionId: 'sesn_x',
        messageEventId: 'sevt_x',
        model: 'scripted-model',
        system: null,
        maxTokens: 100,
        conversation: { head: null },
        additions: [{ kind: 'user_text', text: 'hi' }],
        toolNames: [],
      },
      {
        client: new Anthropic({ baseURL: model.baseUrl, apiKey: 'test', maxRetries: 0 }),
        bus: new LiveEventBus(),
        toolDefinitions: new Map(),
        conversations: new ConversationStore(storeFailingReplies()),
        uploadedFiles: () => Promise.resolve(null),
      },
    ).catch((error: unknown) => error);
    // The model answered: the request reached it, and only the store failed.
    expect(model.remaining()).toBe(0);
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
    expect((failure as Error).message).toBe('disk full');
  });
});
