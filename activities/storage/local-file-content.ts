import { access, mkdir } from 'node:fs/promises';
import { BLOB_PREFIXES } from '../../common/blob-store';
import type { BlobStore } from '../../common/blob-store';
import { fileContentPath, filesDirectory } from '../../common/file-content-path';

/**
 * Makes sure this machine has the content of the uploaded file `fileId` at `fileContentPath(dataDir, fileId)`: when it
 * does not and a `shared` blob store (S3) is configured, the content is fetched from `files/<fileId>` there (streamed,
 * renamed into place whole). Resolves to whether the local copy exists after. The server that took the upload stored
 * it there (`FileContentStore`); the data folder of a worker on another machine is a cache of the bucket.
 */
export async function ensureLocalFileContent(
  dataDir: string,
  fileId: string,
  shared: BlobStore | undefined,
): Promise<boolean> {
  const local = fileContentPath(dataDir, fileId);
  if (await exists(local)) return true;
  if (shared === undefined) return false;
  await mkdir(filesDirectory(dataDir), { recursive: true });
  return shared.getFile(`${BLOB_PREFIXES.files}${fileId}`, local);
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
