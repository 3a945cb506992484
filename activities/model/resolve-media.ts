import { readFile } from 'node:fs/promises';
import type { BlobStore } from '../../common/blob-store';
import { fileContentPath } from '../../common/file-content-path';
import { sniffDocumentMediaType, sniffImageMediaType } from '../../common/media-type';
import { ensureLocalFileContent } from '../storage/local-file-content';
import type { MessageParam } from '../../common/model';

/** Reads an uploaded file's content by id; `null` when the file is gone. */
export type UploadedFileReader = (fileId: string) => Promise<Uint8Array | null>;

/**
 * The reader of the files uploaded to one Keel: their content lies in `KEEL_DATA_DIR/files`, fetched there first from
 * the `shared` blob store (S3) when this worker has no copy (`ensureLocalFileContent`).
 */
export function uploadedFileReader(dataDir: string, shared?: BlobStore): UploadedFileReader {
  return async (fileId) => {
    try {
      await ensureLocalFileContent(dataDir, fileId, shared);
      return await readFile(fileContentPath(dataDir, fileId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
}

type Block = Record<string, unknown> & { type: string };

/**
 * `messages` with every image or document whose source is an uploaded file (`{type: 'file', file_id}`, a Keel id the
 * model provider has never seen) replaced by its content: a base64 image or PDF, or a plain-text document. The stored
 * conversation keeps the small reference; the bytes are read here, on every call that carries them. A file deleted
 * since (or no longer of a type the model takes) becomes a short text note, so the session goes on.
 */
export async function withResolvedMedia(messages: MessageParam[], read: UploadedFileReader): Promise<MessageParam[]> {
  if (!messages.some((message) => Array.isArray(message.content) && message.content.some(isFileSourced))) {
    return messages;
  }
  const files = new Map<string, Promise<Uint8Array | null>>();
  const content = (fileId: string): Promise<Uint8Array | null> => {
    let load = files.get(fileId);
    if (load === undefined) {
      load = read(fileId);
      files.set(fileId, load);
    }
    return load;
  };
  return Promise.all(
    messages.map(async (message) => {
      if (!Array.isArray(message.content) || !message.content.some(isFileSourced)) return message;
      const blocks = await Promise.all(
        (message.content as unknown as Block[]).map((block) =>
          isFileSourced(block) ? resolveBlock(block, content) : Promise.resolve(block),
        ),
      );
      return { ...message, content: blocks } as unknown as MessageParam;
    }),
  );
}

function isFileSourced(block: unknown): block is Block & { source: { type: 'file'; file_id: string } } {
  const candidate = block as { type?: unknown; source?: { type?: unknown } };
  return (candidate.type === 'image' || candidate.type === 'document') && candidate.source?.type === 'file';
}

async function resolveBlock(
  block: Block & { source: { type: 'file'; file_id: string } },
  content: (fileId: string) => Promise<Uint8Array | null>,
): Promise<Block> {
  const fileId = block.source.file_id;
  const bytes = await content(fileId);
  if (bytes === null) return note(`[The ${block.type} ${fileId} was deleted; its content is no longer available.]`);
  const { source: _source, ...rest } = block;
  if (block.type === 'image') {
    const mediaType = sniffImageMediaType(bytes);
    if (mediaType === null) return note(`[The file ${fileId} is not a PNG, JPEG, GIF or WebP image.]`);
    return { ...rest, source: { type: 'base64', media_type: mediaType, data: Buffer.from(bytes).toString('base64') } };
  }
  const mediaType = sniffDocumentMediaType(bytes);
  if (mediaType === 'application/pdf') {
    return { ...rest, source: { type: 'base64', media_type: mediaType, data: Buffer.from(bytes).toString('base64') } };
  }
  if (mediaType === 'text/plain') {
    return { ...rest, source: { type: 'text', media_type: mediaType, data: Buffer.from(bytes).toString('utf8') } };
  }
  return note(`[The file ${fileId} is neither a PDF nor plain text.]`);
}

function note(text: string): Block {
  return { type: 'text', text };
}
