import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ExternalStorage, StorageDriverClaim } from '@temporalio/common';
import type { DataConverter, Payload, StorageDriver } from '@temporalio/common';
import { BLOB_PREFIXES } from '../common/blob-store';
import type { BlobStore } from '../common/blob-store';
import { EVENT_ARCHIVE_FORMAT } from '../common/events';

/** Payloads above this size go to the payload store; a reference stays in the history. Temporal refuses over 2 MB. */
export const EXTERNAL_PAYLOAD_THRESHOLD_BYTES = 256 * 1024;

/**
 * A Temporal External Storage driver (claim check) over the blob store: each large payload is written once under
 * `payloads/<SHA-256 of its content>`, so the history holds a small reference instead of the body, and every worker
 * and server that shares the blob store (a folder, or an S3 bucket) can read it. Stored payloads are kept: a closed
 * run's history is replayed for its events, so they live as long as the history.
 */
export class BlobStorageDriver implements StorageDriver {
  readonly name = 'keel-blobs';
  readonly type = 'keel.blobs';

  constructor(private readonly blobs: BlobStore) {}

  async store(_context: unknown, payloads: Payload[]): Promise<StorageDriverClaim[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = Buffer.from(JSON.stringify(toJson(payload)));
        const key = createHash('sha256').update(bytes).digest('hex');
        await this.blobs.put(`${BLOB_PREFIXES.payloads}${key}`, bytes);
        return new StorageDriverClaim({ key });
      }),
    );
  }

  async retrieve(_context: unknown, claims: StorageDriverClaim[]): Promise<Payload[]> {
    return Promise.all(
      claims.map(async (claim) => {
        const key = claim.claimData['key'] ?? '';
        if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a Keel payload reference: ${key}`);
        const body = await this.blobs.get(`${BLOB_PREFIXES.payloads}${key}`);
        if (body === null) throw new Error(`the payload ${key} is not in the blob store`);
        return fromJson(JSON.parse(Buffer.from(body).toString('utf8')) as JsonPayload);
      }),
    );
  }
}

/**
 * The driver of the payloads that Keel wrote to `<dataDir>/payloads` before they moved to the blob store. It stays
 * registered, for reading only, so the histories that reference them (driver name `keel-folder`) still replay.
 */
export class FolderStorageDriver implements StorageDriver {
  readonly name = 'keel-folder';
  readonly type = 'keel.folder';

  constructor(private readonly folder: string) {}

  store(): Promise<StorageDriverClaim[]> {
    return Promise.reject(new Error('the payload folder is read-only: new payloads go to the blob store'));
  }

  async retrieve(_context: unknown, claims: StorageDriverClaim[]): Promise<Payload[]> {
    return Promise.all(
      claims.map(async (claim) => {
        const key = claim.claimData['key'] ?? '';
        if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a Keel payload reference: ${key}`);
        return fromJson(JSON.parse(await readFile(path.join(this.folder, key), 'utf8')) as JsonPayload);
      }),
    );
  }
}

/**
 * The data converter of every Temporal client and worker of one Keel: large payloads go to the blob store, and so
 * does every event archive whatever its size (a run's events are written to the blob store when it continues-as-new;
 * passing them through the history would cost each step its events' bytes a second time). Payloads stored in
 * `<dataDir>/payloads` by earlier versions are still read.
 */
export function keelDataConverter(options: { blobs: BlobStore; dataDir: string }): DataConverter {
  const driver = new BlobStorageDriver(options.blobs);
  const earlier = new FolderStorageDriver(path.join(options.dataDir, 'payloads'));
  return {
    externalStorage: new ExternalStorage({
      drivers: [driver, earlier],
      driverSelector: (_context, payload) =>
        (payload.data?.length ?? 0) > EXTERNAL_PAYLOAD_THRESHOLD_BYTES || isEventArchive(payload) ? driver : null,
      payloadSizeThreshold: 0,
    }),
  };
}

const ARCHIVE_PREFIX = Buffer.from(`{"format":"${EVENT_ARCHIVE_FORMAT}"`);

/** Whether a payload is an event archive (JSON whose first field is the archive format). */
function isEventArchive(payload: Payload): boolean {
  const data = payload.data;
  if (data === undefined || data === null || data.length < ARCHIVE_PREFIX.length) return false;
  return Buffer.from(data.buffer, data.byteOffset, ARCHIVE_PREFIX.length).equals(ARCHIVE_PREFIX);
}

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function fromJson(json: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(json.metadata)) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(json.data, 'base64') };
}
