import type { BetaFileMetadata } from '@anthropic-ai/sdk/resources/beta/files';
import type { StoredFile } from '../store/control-plane-store';

/** The file object of the hosted API (`BetaFileMetadata`) for a stored file. */
export function toFileView(file: StoredFile): BetaFileMetadata {
  return {
    id: file.id,
    type: 'file',
    filename: file.filename,
    mime_type: file.mimeType,
    size_bytes: file.sizeBytes,
    created_at: file.createdAt,
    downloadable: file.downloadable,
    expires_at: file.expiresAt,
    scope: file.scope,
  };
}
