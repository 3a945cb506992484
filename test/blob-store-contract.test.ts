import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../cli/temporal-dev-server';
import { BLOB_PREFIXES } from '../common/blob-store';
import type { BlobStore } from '../common/blob-store';
import { contentKey } from '../storage/content-key';
import { FolderBlobStore } from '../storage/folder-blob-store';
import { S3BlobStore } from '../storage/s3-blob-store';
import type { S3BlobStoreOptions } from '../storage/s3-blob-store';
import { startSeaweedFs } from './support/seaweedfs';
import type { SeaweedFs } from './support/seaweedfs';

let seaweed: SeaweedFs;
let folder: string;
const opened: S3BlobStore[] = [];

beforeAll(async () => {
  seaweed = await startSeaweedFs();
  folder = mkdtempSync(path.join(tmpdir(), 'keel-blob-contract-'));
});

afterAll(async () => {
  for (const store of opened) store.close();
  await seaweed?.stop();
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
});

/** The options of an S3 blob store in `bucket` of the test's SeaweedFS. */
function s3Options(bucket: string, prefix = ''): S3BlobStoreOptions {
  return {
    endpoint: seaweed.endpoint,
    region: seaweed.region,
    bucket,
    prefix,
    accessKeyId: seaweed.accessKeyId,
    secretAccessKey: seaweed.secretAccessKey,
  };
}

async function openS3(bucket: string, prefix = ''): Promise<S3BlobStore> {
  const store = await S3BlobStore.open(s3Options(bucket, prefix));
  opened.push(store);
  return store;
}

const implementations: Array<{ name: string; open: () => Promise<BlobStore> }> = [
  { name: 'FolderBlobStore', open: () => Promise.resolve(new FolderBlobStore(folder)) },
  { name: 'S3BlobStore', open: () => openS3('keel-contract', 'keel/') },
];

describe.each(implementations)('the BlobStore contract: $name', ({ open }) => {
  it('get of a key never written resolves to null', async () => {
    const store = await open();
    expect(await store.get(`${BLOB_PREFIXES.toolOutput}${'0'.repeat(64)}`)).toBeNull();
    expect(await store.get('events/sesn_never/00000000-missing')).toBeNull();
  });

  it('a binary body (every byte value, then random bytes) reads back byte for byte', async () => {
    const store = await open();
    const body = new Uint8Array([...Array.from({ length: 256 }, (_, byte) => byte), ...randomBytes(4096)]);
    const key = contentKey(BLOB_PREFIXES.conversation, body);
    await store.put(key, body);
    const read = await store.get(key);
    expect(read).not.toBeNull();
    expect(Buffer.from(read!).equals(Buffer.from(body))).toBe(true);
  });

  it('an empty body is stored and read back empty, not as missing', async () => {
    const store = await open();
    const key = contentKey(BLOB_PREFIXES.toolOutput, '');
    await store.put(key, new Uint8Array());
    const read = await store.get(key);
    expect(read).not.toBeNull();
    expect(read?.byteLength).toBe(0);
  });

  it('writing a content-addressed key again, even five times at once, succeeds and keeps the same body', async () => {
    const store = await open();
    const body = Buffer.from(`tool output ${randomBytes(8).toString('hex')}\n`.repeat(50));
    const key = contentKey(BLOB_PREFIXES.toolOutput, body);
    await store.put(key, body);
    await Promise.all(Array.from({ length: 5 }, () => store.put(key, body)));
    expect(Buffer.from((await store.get(key))!).toString()).toBe(body.toString());
  });

  it('keys with several slashes are separate bodies, each under its own key', async () => {
    const store = await open();
    const session = `sesn_${randomBytes(6).toString('hex')}`;
    const keys = [`events/${session}/00000000-aa`, `events/${session}/00000005-bb`, `events/${session}x/00000000-aa`];
    await Promise.all(keys.map((key) => store.put(key, Buffer.from(key))));
    for (const key of keys) expect(Buffer.from((await store.get(key))!).toString()).toBe(key);
  });

  it('a body of 6 MiB round-trips whole', async () => {
    const store = await open();
    const body = randomBytes(6 * 1024 * 1024);
    const key = contentKey(BLOB_PREFIXES.payloads, body);
    await store.put(key, body);
    const read = await store.get(key);
    expect(read?.byteLength).toBe(body.byteLength);
    const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    expect(digest(read!)).toBe(digest(body));
  });

  it('an uploaded file streams in with putFile, out with getFile (written whole), and is gone after delete', async () => {
    const store = await open();
    const source = path.join(folder, `source-${randomBytes(4).toString('hex')}`);
    const body = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(source, body);
    const key = `${BLOB_PREFIXES.files}file_${randomBytes(8).toString('hex')}`;
    await store.putFile(key, source);
    const target = path.join(folder, `target-${randomBytes(4).toString('hex')}`);
    expect(await store.getFile(key, target)).toBe(true);
    expect(readFileSync(target).equals(body)).toBe(true);
    expect(readdirSync(folder).filter((name) => name.startsWith(path.basename(target)))).toEqual([
      path.basename(target),
    ]);
    await store.delete(key);
    await store.delete(key);
    expect(await store.get(key)).toBeNull();
    const missing = path.join(folder, `missing-${randomBytes(4).toString('hex')}`);
    expect(await store.getFile(key, missing)).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });

  it('a key outside the blob key pattern is refused before any I/O', async () => {
    const store = await open();
    await expect(store.put('../escape', Buffer.from('x'))).rejects.toThrow(/not a blob key/);
    await expect(store.get('tool-output/../../etc/passwd')).rejects.toThrow(/not a blob key/);
    await expect(store.get('no-slash')).rejects.toThrow(/not a blob key/);
  });
});

describe('S3BlobStore against SeaweedFS', () => {
  it('open creates a missing bucket, and opening it again (as every worker and server does) works', async () => {
    await expect(seaweed.client.send(new HeadBucketCommand({ Bucket: 'keel-created' }))).rejects.toThrow();
    const first = await openS3('keel-created');
    await Promise.all([openS3('keel-created'), openS3('keel-created')]);
    await seaweed.client.send(new HeadBucketCommand({ Bucket: 'keel-created' }));
    await first.put('tool-output/first', Buffer.from('first'));
    expect(Buffer.from((await (await openS3('keel-created')).get('tool-output/first'))!).toString()).toBe('first');
  });

  it('keys map one to one under the prefix: the object key is the prefix followed by the blob key', async () => {
    const store = await openS3('keel-prefixed', 'team-a/keel/');
    const body = Buffer.from('under the prefix');
    const key = contentKey(BLOB_PREFIXES.toolOutput, body);
    await store.put(key, body);
    expect(await seaweed.listKeys('keel-prefixed')).toEqual([`team-a/keel/${key}`]);
    const object = await seaweed.client.send(
      new GetObjectCommand({ Bucket: 'keel-prefixed', Key: `team-a/keel/${key}` }),
    );
    expect(await object.Body?.transformToString()).toBe('under the prefix');
    // Another prefix in the same bucket is another store.
    expect(await (await openS3('keel-prefixed', 'team-b/')).get(key)).toBeNull();
  });

  it('a wrong secret fails open with an error that names the bucket and the endpoint but no credential', async () => {
    // Printing a store does not print its credentials either.
    const store = await openS3('keel-secret');
    expect(inspect(store, { depth: 8 })).not.toContain(seaweed.secretAccessKey);
    const wrongSecret = `wrong-${randomBytes(16).toString('hex')}`;
    const failure = await S3BlobStore.open({ ...s3Options('keel-secret'), secretAccessKey: wrongSecret }).then(
      () => new Error('expected open to fail'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toContain(
      `S3 blob store ${seaweed.endpoint}, bucket keel-secret: could not check that the bucket exists`,
    );
    expect(failure.message).toContain('access denied (HTTP 403): the store refused the credentials');
    for (const text of [failure.message, failure.stack ?? '', inspect(failure, { depth: 10 })]) {
      expect(text).not.toContain(wrongSecret);
      expect(text).not.toContain(seaweed.secretAccessKey);
      expect(text).not.toContain(seaweed.accessKeyId);
    }
  });

  it('a wrong secret on a bucket that does not exist fails too, without creating it or leaking the secret', async () => {
    const wrongSecret = `wrong-${randomBytes(16).toString('hex')}`;
    const failure = await S3BlobStore.open({ ...s3Options('keel-never-created'), secretAccessKey: wrongSecret }).then(
      () => new Error('expected open to fail'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toContain(`S3 blob store ${seaweed.endpoint}, bucket keel-never-created: could not`);
    expect(inspect(failure, { depth: 10 })).not.toContain(wrongSecret);
    await expect(seaweed.client.send(new HeadBucketCommand({ Bucket: 'keel-never-created' }))).rejects.toThrow();
  });

  it('an endpoint where nothing listens fails open with an error that names the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await findFreePort()}`;
    await expect(S3BlobStore.open({ ...s3Options('keel-nowhere'), endpoint })).rejects.toThrow(
      `S3 blob store ${endpoint}, bucket keel-nowhere: could not check that the bucket exists`,
    );
  });
});
