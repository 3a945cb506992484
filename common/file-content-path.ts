import path from 'node:path';

/** The folder inside `KEEL_DATA_DIR` that holds uploaded files' content, one file per id. */
export const FILES_DIRECTORY_NAME = 'files';

/** A file id as the Files API issues them: `file_` and 8 to 64 letters and digits, so never a path of its own. */
const FILE_ID = /^file_[0-9A-Za-z]{8,64}$/;

/** The folder of uploaded files' content in the data folder `dataDir`. */
export function filesDirectory(dataDir: string): string {
  return path.join(dataDir, FILES_DIRECTORY_NAME);
}

/**
 * Where the content of file `fileId` lies on disk, for the server and for the sandbox side, which will bind-mount it
 * read-only into a session's container at the resource's `mount_path`. Content under an id is written once (under a
 * temporary name, then renamed) and never rewritten, so a mount of it stays valid. Throws a `RangeError` for a value
 * that is not a file id, so no crafted id can name a path outside the folder.
 */
export function fileContentPath(dataDir: string, fileId: string): string {
  if (!FILE_ID.test(fileId)) throw new RangeError(`Not a file id: "${fileId.slice(0, 80)}".`);
  return path.join(filesDirectory(dataDir), fileId);
}
