import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import { BadRequestError, ContentTooLargeError, NotFoundError, toFile } from '@anthropic-ai/sdk';
import type { BetaFileMetadata } from '@anthropic-ai/sdk/resources/beta/files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAgent } from '../cli/stack';
import { fileContentPath, filesDirectory } from '../common/file-content-path';
import { LiveEventBus } from '../common/live-events';
import { createServer } from '../server/create-server';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import { FolderBlobStore, blobFolder } from '../storage/folder-blob-store';
import { startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { rejection, sdkClient } from './support/sdk';

/** The upload limit of this file's stack, small so that a too-large upload is cheap to send. */
const MAX_FILE_BYTES = 64 * 1024;

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack({ environment: { KEEL_FILE_MAX_BYTES: String(MAX_FILE_BYTES) }, runWorker: false });
  // No retries: every error must surface at once, as the test expects it.
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

async function upload(bytes: Buffer, name: string, type?: string): Promise<BetaFileMetadata> {
  return client.beta.files.upload({ file: await toFile(bytes, name, type === undefined ? undefined : { type }) });
}

/** What the files folder of the stack holds, and the ids the store knows: they must always match. */
async function filesOnDiskAndInStore(): Promise<{ onDisk: string[]; inStore: string[] }> {
  const onDisk = readdirSync(filesDirectory(harness.config.dataDir)).sort();
  const inStore = (await harness.stack.store.files.getMany(onDisk)).map((file) => file.id).sort();
  return { onDisk, inStore };
}

describe('files API through the official SDK', () => {
  it('upload text: returns the hosted file object, and retrieve and download give it back', async () => {
    const text = 'Keel keeps files.\nLine two, with ünïcode.\n';
    const created = await upload(Buffer.from(text), 'notes/readme.txt', 'text/plain');
    expect(created.id).toMatch(/^file_[0-9A-Za-z]{24}$/);
    expect(created).toEqual({
      id: created.id,
      type: 'file',
      filename: 'readme.txt',
      mime_type: 'text/plain',
      size_bytes: Buffer.byteLength(text),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      downloadable: true,
      expires_at: null,
      scope: null,
    });
    expect(await client.beta.files.retrieveMetadata(created.id)).toEqual(created);

    const response = await client.beta.files.download(created.id);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="readme.txt"; filename*=UTF-8''readme.txt`,
    );
    expect(await response.text()).toBe(text);
  });

  it('upload binary: every byte round-trips through download, and lies on disk under the id', async () => {
    const bytes = randomBytes(MAX_FILE_BYTES);
    const created = await upload(bytes, 'blob.bin', 'application/octet-stream');
    expect(created).toMatchObject({
      filename: 'blob.bin',
      mime_type: 'application/octet-stream',
      size_bytes: bytes.length,
    });

    const downloaded = Buffer.from(await (await client.beta.files.download(created.id)).arrayBuffer());
    expect(downloaded.equals(bytes)).toBe(true);
    expect(readFileSync(fileContentPath(harness.config.dataDir, created.id)).equals(bytes)).toBe(true);
  });

  it('upload: a nameless file is called unnamed plus its extension, and expires_in_seconds sets expires_at', async () => {
    const nameless = await upload(Buffer.from('{"a":1}'), '', 'application/json');
    expect(nameless).toMatchObject({ filename: 'unnamed.json', mime_type: 'application/json' });

    const expiring = await client.beta.files.upload({
      file: await toFile(Buffer.from('short-lived'), 'short.txt', { type: 'text/plain' }),
      expires_in_seconds: 3600,
    });
    expect(Date.parse(expiring.expires_at!) - Date.parse(expiring.created_at)).toBe(3600 * 1000);

    const tooSoon = await rejection(
      client.beta.files.upload({ file: await toFile(Buffer.from('x'), 'x.txt'), expires_in_seconds: 60 }),
    );
    expect(tooSoon).toBeInstanceOf(BadRequestError);
    expect(tooSoon.message).toContain('expires_in_seconds');
  });

  it('list: pages newest first with for-await and getNextPage, and ids gives one page of the known ones', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1)
      ids.push((await upload(Buffer.from(`page ${index}`), `${index}.txt`)).id);
    const newestFirst = [...ids].reverse();

    const listed: string[] = [];
    for await (const file of client.beta.files.list({ limit: 2 })) listed.push(file.id);
    expect(listed.slice(0, 5)).toEqual(newestFirst);

    const first = await client.beta.files.list({ limit: 2 });
    expect(first.data.map((file) => file.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.next_page).not.toBeNull();
    const second = await first.getNextPage();
    expect(second.data.map((file) => file.id)).toEqual(newestFirst.slice(2, 4));

    const byIds = await client.beta.files.list({ ids: [ids[0]!, 'file_000000000000000000000000', ids[3]!, ids[0]!] });
    expect(byIds.data.map((file) => file.id)).toEqual([ids[3], ids[0]]);
    expect(byIds.next_page).toBeNull();

    const mixed = await rejection(client.beta.files.list({ ids: [ids[0]!], limit: 2 }));
    expect(mixed).toBeInstanceOf(BadRequestError);
    expect(mixed.message).toContain('ids');
  });

  it('delete: answers file_deleted, then the file is gone from the API and from disk', async () => {
    const created = await upload(Buffer.from('to be deleted'), 'gone.txt');
    expect(await client.beta.files.delete(created.id)).toEqual({ id: created.id, type: 'file_deleted' });

    expect(await rejection(client.beta.files.retrieveMetadata(created.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.beta.files.download(created.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.beta.files.delete(created.id))).toBeInstanceOf(NotFoundError);
    expect(readdirSync(filesDirectory(harness.config.dataDir))).not.toContain(created.id);
  });

  it('upload over the limit: 413 request_too_large naming the limit, and nothing is left behind', async () => {
    const before = await filesOnDiskAndInStore();
    const atLimit = await upload(randomBytes(MAX_FILE_BYTES), 'at-limit.bin');
    expect(atLimit.size_bytes).toBe(MAX_FILE_BYTES);

    // One byte over is cut short while streaming; far over is refused from the declared length before any is read.
    for (const size of [MAX_FILE_BYTES + 1, 4 * 1024 * 1024]) {
      const error = await rejection(upload(randomBytes(size), 'too-large.bin'));
      expect(error).toBeInstanceOf(ContentTooLargeError);
      expect(error.status).toBe(413);
      expect(error.type).toBe('request_too_large');
      expect(error.message).toContain(`${MAX_FILE_BYTES} bytes`);
    }

    const after = await filesOnDiskAndInStore();
    expect(after.onDisk).toEqual([...before.onDisk, atLimit.id].sort());
    expect(after.inStore).toEqual(after.onDisk);
  });

  it('upload refused: empty file, missing file part and unknown parts are 400s naming the field, leaving nothing', async () => {
    const before = await filesOnDiskAndInStore();

    const empty = await rejection(upload(Buffer.alloc(0), 'empty.txt'));
    expect(empty).toBeInstanceOf(BadRequestError);
    expect(empty.message).toMatch(/^400 .*file: the file is empty/);

    const extra = await rejection(
      client.beta.files.upload({ file: await toFile(Buffer.from('content'), 'a.txt'), purpose: 'assistants' } as never),
    );
    expect(extra).toBeInstanceOf(BadRequestError);
    expect(extra.message).toContain('purpose: unknown field');

    const extraFile = await rejection(
      client.beta.files.upload({
        file: await toFile(Buffer.from('content'), 'a.txt'),
        attachment: await toFile(randomBytes(1024), 'b.bin'),
      } as never),
    );
    expect(extraFile.message).toContain('attachment: unknown field');

    const missing = await rejection(client.beta.files.upload({ expires_in_seconds: 3600 } as never));
    expect(missing).toBeInstanceOf(BadRequestError);
    expect(missing.message).toContain('file: required');

    const notMultipart = await rejection(client.post('/v1/files', { body: { file: 'inline' } }));
    expect(notMultipart).toBeInstanceOf(BadRequestError);
    expect(notMultipart.message).toContain('file: expected a multipart/form-data body');

    expect(await filesOnDiskAndInStore()).toEqual(before);
  });

  it('ids of the wrong kind are 400s naming the field; an unknown file id is a 404', async () => {
    for (const call of [
      client.beta.files.retrieveMetadata('agent_011CZkZaBF1tNoB5wlCeusgy'),
      client.beta.files.download('env_011CZkZaBF1tNoB5wlCeusgy'),
      client.beta.files.delete('../keel.sqlite'),
    ]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error.message).toContain('file_id: expected a file id');
    }
    const listed = await rejection(client.beta.files.list({ ids: ['sesn_abcdefgh12345678'] }));
    expect(listed.message).toContain('ids[0]: expected a file id');

    const unknown = await rejection(client.beta.files.retrieveMetadata('file_011CZkZaBF1tNoB5wlCeusgy'));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown.type).toBe('not_found_error');
  });
});

describe('files across a store reopen', () => {
  it('a server on the reopened store serves the same metadata and bytes, and sweeps only what a crash left', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'keel-files-reopen-'));
    const startServer = async () => {
      const store = openSqliteStore({ filename: storeFilePath(dataDir) });
      const server = createServer({
        temporal: harness.stack.temporal,
        bus: new LiveEventBus(),
        blobs: new FolderBlobStore(blobFolder(dataDir)),
        apiKey: TEST_API_KEY,
        healthChecks: [],
        agent: defaultAgent(harness.config, false),
        limits: harness.config.limits,
        sandboxProvisioning: harness.config.sandbox.provisioning,
        store,
        files: { dataDir, maxBytes: MAX_FILE_BYTES },
      });
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      const sdk = sdkClient(url);
      const stop = async (): Promise<void> => {
        await server.close();
        await store.close();
      };
      return { sdk, stop };
    };
    try {
      const first = await startServer();
      const bytes = randomBytes(10_000);
      const created = await first.sdk.beta.files.upload({ file: await toFile(bytes, 'kept.bin') });
      await first.stop();

      // What a crash leaves: a half-written temporary file and content whose metadata never landed, both old; and a
      // fresh temporary file, as an upload in progress in another process would have. The kept file is old too.
      const folder = filesDirectory(dataDir);
      const hoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      for (const name of ['.upload-crashed', 'file_orphan000000000000000', created.id]) {
        if (name !== created.id) writeFileSync(path.join(folder, name), 'debris');
        utimesSync(path.join(folder, name), hoursAgo, hoursAgo);
      }
      writeFileSync(path.join(folder, '.upload-in-progress'), 'partial');

      const second = await startServer();
      try {
        expect(await second.sdk.beta.files.retrieveMetadata(created.id)).toEqual(created);
        const downloaded = Buffer.from(await (await second.sdk.beta.files.download(created.id)).arrayBuffer());
        expect(downloaded.equals(bytes)).toBe(true);
        expect((await second.sdk.beta.files.list()).data.map((file) => file.id)).toEqual([created.id]);
        expect(readdirSync(folder).sort()).toEqual(['.upload-in-progress', created.id].sort());
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
