import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExternalStorage, StorageDriverClaim } from '@temporalio/common';
import type { DataConverter, Payload, StorageDriver } from '@temporalio/common';
import { EVENT_ARCHIVE_FORMAT } from '../common/events';

/** Payloads above this size go to the payload store; a reference stays in the history. Temporal refuses over 2 MB. */
export const EXTERNAL_PAYLOAD_THRESHOLD_BYTES = 256 * 1024;

/**
 * A Temporal External Storage driver (claim check) over a folder: each large payload is written once, named by the
 * SHA-256 of its content, so the history holds a small reference instead of the body. The embedded default, named as
 * such: workers and servers on other machines need a shared folder, or another `StorageDriver` (an object store).
 * Stored payloads are kept: a closed run's history is replayed for its events, so they live as long as the history.
 */
export class FolderStorageDriver implements StorageDriver {
  readonly name = 'keel-folder';
  readonly type = 'keel.folder';

  constructor(private readonly folder: string) {}

  async store(_context: unknown, payloads: Payload[]): Promise<StorageDriverClaim[]> {
    await mkdir(this.folder, { recursive: true });
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = Buffer.from(JSON.stringify(toJson(payload)));
        const key = createHash('sha256').update(bytes).digest('hex');
        const file = path.join(this.folder, key);
        const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        await writeFile(partial, bytes);
        await rename(partial, file);
        return new StorageDriverClaim({ key });
      }),
    );
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
 * The data converter of every Temporal client and worker of one Keel: large payloads go to `<dataDir>/payloads`, and
 * so does every event archive whatever its size (a run's events are written to the blob store when it
 * continues-as-new; passing them through the history would cost each step its events' bytes a second time).
 */
export function keelDataConverter(dataDir: string): DataConverter {
  const driver = new FolderStorageDriver(path.join(dataDir, 'payloads'));
  return {
    externalStorage: new ExternalStorage({
      drivers: [driver],
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
