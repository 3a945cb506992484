import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StorageDriverClaim } from '@temporalio/common';
import { ExternalStorageRunner } from '@temporalio/common/lib/internal-non-workflow/external-storage-runner';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BLOB_PREFIXES } from '../common/blob-store';
import { EVENT_ARCHIVE_FORMAT } from '../common/events';
import { blobFolder, FolderBlobStore } from '../storage/folder-blob-store';
import { keelDataConverter } from '../worker/payload-store';

/** How an event archive's JSON begins: the payload store keeps every one, whatever its size. */
const ARCHIVE_START = `{"format":"${EVENT_ARCHIVE_FORMAT}"`;

const dataDir = mkdtempSync(path.join(tmpdir(), 'keel-payload-store-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The External Storage of Keel's data converter over the data folder's blob store. */
function keelStorage() {
  const storage = keelDataConverter({ blobs: new FolderBlobStore(blobFolder(dataDir)), dataDir }).externalStorage;
  if (storage === undefined) throw new Error('expected External Storage');
  return storage;
}

/** The drivers of Keel's data converter over the data folder's blob store. */
function drivers() {
  const storage = keelStorage();
  const current = storage.getDriver('keel-blobs');
  const earlier = storage.getDriver('keel-folder');
  if (!current || !earlier) throw new Error('expected the keel-blobs and keel-folder drivers');
  return { current, earlier };
}

describe('the payload store (Temporal External Storage over the blob store)', () => {
  it('stores a payload under payloads/<sha256> in the blob store and retrieves it byte for byte', async () => {
    const { current } = drivers();
    const payload = { metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.from([0, 1, 2, 255]) };
    const [claim] = await current.store({}, [payload]);
    expect(claim?.claimData['key']).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(path.join(blobFolder(dataDir), BLOB_PREFIXES.payloads))).toEqual([claim?.claimData['key']]);
    const [read] = await current.retrieve({}, [claim!]);
    expect(Buffer.from(read?.data ?? []).equals(payload.data)).toBe(true);
    expect(Buffer.from(read?.metadata?.['encoding'] ?? []).toString()).toBe('binary/plain');
  });

  it('a payload that an earlier version wrote to KEEL_DATA_DIR/payloads (driver keel-folder) is still read', async () => {
    const { earlier } = drivers();
    const body = Buffer.from(
      JSON.stringify({
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from('"from before"').toString('base64'),
      }),
    );
    const key = createHash('sha256').update(body).digest('hex');
    mkdirSync(path.join(dataDir, 'payloads'), { recursive: true });
    writeFileSync(path.join(dataDir, 'payloads', key), body);
    const [read] = await earlier.retrieve({}, [new StorageDriverClaim({ key })]);
    expect(Buffer.from(read?.data ?? []).toString()).toBe('"from before"');
    await expect(earlier.store({}, [])).rejects.toThrow(/read-only/);
  });

  it('a claim whose payload is not in the blob store fails with the key named', async () => {
    const { current } = drivers();
    const key = 'f'.repeat(64);
    await expect(current.retrieve({}, [new StorageDriverClaim({ key })])).rejects.toThrow(
      `the payload ${key} is not in the blob store`,
    );
  });

  it('makes no abort signal for payloads that stay inline or are no reference (patches/@temporalio+common)', async () => {
    const runner = new ExternalStorageRunner(keelStorage());
    const abortSignal = new AbortController().signal;
    const any = vi.spyOn(AbortSignal, 'any');
    try {
      const small = [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"small":true}') }];
      expect(await runner.store(small, { abortSignal })).toBe(small);
      expect(await runner.retrieve(small, { abortSignal })).toBe(small);
      expect(any).not.toHaveBeenCalled();
      // An event archive is stored whatever its size: its batch gets its signal, and reads back byte for byte.
      const archive = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(`${ARCHIVE_START}}`) };
      const [reference] = await runner.store([archive], { abortSignal });
      expect(reference).not.toBe(archive);
      expect(any).toHaveBeenCalledTimes(1);
      const [read] = await runner.retrieve([reference!], { abortSignal });
      expect(any).toHaveBeenCalledTimes(2);
      expect(Buffer.from(read?.data ?? []).toString()).toBe(`${ARCHIVE_START}}`);
    } finally {
      any.mockRestore();
    }
  });
});
