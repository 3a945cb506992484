import { randomBytes } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BLOB_PREFIXES } from '../../common/blob-store';
import type { BlobStore } from '../../common/blob-store';
import { fileContentPath, filesDirectory } from '../../common/file-content-path';
import { isResourceId } from '../resource-ids';

/** Names of content still being written start with this, so they can never be taken for a file id. */
const TEMPORARY_PREFIX = '.upload-';

/** How long a leftover must have gone unwritten before `removeLeftovers` takes it for the debris of a crash. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

/** Content written to disk under a temporary name: no file's yet, until `commit`. */
export interface TemporaryContent {
  readonly sizeBytes: number;
  /** Renames the content to `fileId`'s path, durably (the folder is synced), so the id never names half a file. */
  commit(fileId: string): Promise<void>;
  /** Removes the temporary file (a no-op after `commit`). */
  discard(): Promise<void>;
}

/** The blob key of an uploaded file's content in the shared blob store. */
export function fileContentKey(fileId: string): string {
  return `${BLOB_PREFIXES.files}${fileId}`;
}

/**
 * Uploaded files' content on disk, one file per id in `KEEL_DATA_DIR/files/`. Content is written under a temporary
 * name, synced, then renamed to its id, so a crash at any point leaves either no file under the id or the whole file.
 * With a `shared` blob store (an S3 bucket every server and worker uses), committing also stores the content there
 * (`files/<id>`), the local folder is a cache that a read on another server fills from it, and removing a file
 * removes it there too: a file uploaded through one server downloads from any other and mounts on any worker.
 */
export class FileContentStore {
  readonly directory: string;

  constructor(
    private readonly dataDir: string,
    private readonly shared?: BlobStore,
  ) {
    this.directory = filesDirectory(dataDir);
  }

  /** Writes `source` to a new temporary file; on any error the temporary file is removed before the error is thrown. */
  async write(source: AsyncIterable<Buffer>): Promise<TemporaryContent> {
    await mkdir(this.directory, { recursive: true });
    const temporaryPath = path.join(this.directory, `${TEMPORARY_PREFIX}${randomBytes(12).toString('hex')}`);
    const handle = await open(temporaryPath, 'wx', 0o644);
    let sizeBytes = 0;
    try {
      for await (const chunk of source) {
        await handle.writeFile(chunk);
        sizeBytes += chunk.length;
      }
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temporaryPath, { force: true });
      throw error;
    }
    await handle.close();
    let committed = false;
    return {
      sizeBytes,
      commit: async (fileId) => {
        const local = fileContentPath(this.dataDir, fileId);
        await rename(temporaryPath, local);
        committed = true;
        await this.syncDirectory();
        await this.shared?.putFile(fileContentKey(fileId), local);
      },
      discard: async () => {
        if (!committed) await rm(temporaryPath, { force: true });
      },
    };
  }

  /** A stream of the content of `fileId` with its size on disk, or `null` when there is none. */
  async read(fileId: string): Promise<{ stream: ReadStream; sizeBytes: number } | null> {
    const handle = await this.openLocal(fileId);
    if (handle === null) return null;
    try {
      const { size } = await handle.stat();
      return { stream: handle.createReadStream(), sizeBytes: size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The first `length` bytes of the content of `fileId` (fewer for a shorter file), or `null` when there is none. */
  async head(fileId: string, length: number): Promise<Uint8Array | null> {
    const handle = await this.openLocal(fileId);
    if (handle === null) return null;
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** Removes the content of `fileId`, if any. */
  async remove(fileId: string): Promise<void> {
    await rm(fileContentPath(this.dataDir, fileId), { force: true });
    await this.shared?.delete(fileContentKey(fileId));
  }

  /** Opens the local copy of `fileId`, first fetching it from the shared store when this server has none; `null`: none. */
  private async openLocal(fileId: string): Promise<Awaited<ReturnType<typeof open>> | null> {
    const local = fileContentPath(this.dataDir, fileId);
    const tryOpen = (): Promise<Awaited<ReturnType<typeof open>> | null> =>
      open(local, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
    const handle = await tryOpen();
    if (handle !== null || this.shared === undefined) return handle;
    await mkdir(this.directory, { recursive: true });
    return (await this.shared.getFile(fileContentKey(fileId), local)) ? tryOpen() : null;
  }

  /**
   * Removes what a crash can leave behind: temporary files and content whose metadata was never stored (`isKnown`
   * says which file ids have it), once unwritten for an hour, so an upload in progress in another process is left
   * alone. Other names in the folder are not Keel's and stay. Resolves to the names removed.
   */
  async removeLeftovers(isKnown: (fileIds: string[]) => Promise<Set<string>>): Promise<string[]> {
    const names = await readdir(this.directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const cutoff = Date.now() - LEFTOVER_AGE_MS;
    const old: string[] = [];
    for (const name of names) {
      const modified = await stat(path.join(this.directory, name)).then(
        (stats) => stats.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      );
      if (modified < cutoff) old.push(name);
    }
    const known = await isKnown(old.filter((name) => isResourceId('file', name)));
    const removed = old.filter(
      (name) => name.startsWith(TEMPORARY_PREFIX) || (isResourceId('file', name) && !known.has(name)),
    );
    for (const name of removed) await rm(path.join(this.directory, name), { force: true });
    return removed;
  }

  /** Makes a rename in the folder durable; some platforms cannot open a folder for syncing, which is harmless there. */
  private async syncDirectory(): Promise<void> {
    const handle = await open(this.directory, 'r').catch(() => null);
    if (handle === null) return;
    try {
      await handle.sync();
    } catch {
      // Not supported for folders on this platform: the rename is still atomic, only its durability is the OS's.
    } finally {
      await handle.close();
    }
  }
}
