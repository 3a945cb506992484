import type { BlobStore } from '../common/blob-store';
import type { KeelConfig } from '../common/config';
import { blobFolder, FolderBlobStore } from './folder-blob-store';
import { S3BlobStore } from './s3-blob-store';

/**
 * Opens the blob store `KEEL_BLOB_STORE` names, the one factory every worker and server uses, so all processes of
 * one Keel read and write the same bodies: the folder `KEEL_DATA_DIR/blobs` (`folder`, the default), or a bucket of
 * an S3-compatible store (`s3`), created when it is missing.
 */
export async function openBlobStore(config: KeelConfig): Promise<BlobStore> {
  const options = config.blobStore;
  if (options.kind === 'folder') return new FolderBlobStore(blobFolder(config.dataDir));
  return S3BlobStore.open(options);
}
