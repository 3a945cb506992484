import type { BlobStore } from '../../common/blob-store';
import type { ReadStream } from 'node:fs';
import type { BetaDeletedFile, BetaFileMetadata } from '@anthropic-ai/sdk/resources/beta/files';
import { sniffDocumentMediaType, sniffImageMediaType } from '../../common/media-type';
import { ApiError, invalidField } from '../api-error';
import { ApiErrorWithCode } from '../api-error-with-code';
import { FileContentStore } from './file-content-store';
import { toFileView } from './file-view';
import { toPageResponse } from '../page-query';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import type { FileUpload } from './read-file-upload';
import { newResourceId, requireResourceId } from '../resource-ids';
import type { ControlPlaneStore, FileListRequest, StoredFile } from '../store/control-plane-store';

/** Where files live and how large one may be. */
export interface FileServiceOptions {
  /** `KEEL_DATA_DIR`: content goes to its `files/` folder. */
  dataDir: string;
  /** The largest accepted file, in bytes. */
  maxBytes: number;
  /** The blob store every server and worker shares (S3), when there is one: content is kept there too. */
  shared?: BlobStore;
}

/** A page of files in the SDK's `PageCursor` shape. */
export interface FilePage {
  data: BetaFileMetadata[];
  next_page: string | null;
}

/** A file's content to send: its metadata, a stream of its bytes and their number. */
export interface FileDownload {
  file: StoredFile;
  stream: ReadStream;
  sizeBytes: number;
}

/**
 * File operations: metadata in the control-plane store, content on disk. A file exists for the API once its metadata
 * is stored, which happens only after its content is complete under its id; deleting removes the metadata first. So
 * the API never shows a file without its whole content, and a crash in between leaves only an orphan on disk, which
 * `removeLeftovers` clears.
 */
export class FileService {
  readonly contents: FileContentStore;
  readonly maxBytes: number;

  /**
   * `store` as the request's workspace sees it; `unscoped` (the same store, every workspace) serves the start-up sweep
   * of leftovers, which runs outside any request.
   */
  constructor(
    private readonly store: ControlPlaneStore,
    options: FileServiceOptions,
    private readonly unscoped: ControlPlaneStore = store,
  ) {
    this.contents = new FileContentStore(options.dataDir, options.shared);
    this.maxBytes = options.maxBytes;
  }

  /** Stores an upload read by `readFileUpload` under a new id; on failure nothing of it stays. */
  async create(upload: FileUpload): Promise<BetaFileMetadata> {
    const now = Date.now();
    const file: StoredFile = {
      id: newResourceId('file'),
      // The workspace-scoped store the server gives this service puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      filename: upload.filename,
      mimeType: upload.mimeType,
      sizeBytes: upload.content.sizeBytes,
      createdAt: new Date(now).toISOString(),
      // Keel serves back what was uploaded (the hosted API downloads only files that its tools wrote).
      downloadable: true,
      expiresAt: upload.expiresInSeconds === null ? null : new Date(now + upload.expiresInSeconds * 1000).toISOString(),
      scope: null,
    };
    try {
      await upload.content.commit(file.id);
    } catch (error) {
      await upload.content.discard();
      throw error;
    }
    try {
      await this.store.files.insert(file);
    } catch (error) {
      await this.contents.remove(file.id);
      throw error;
    }
    return toFileView(file);
  }

  /** The file's metadata, or a 404. */
  async retrieve(fileId: string): Promise<BetaFileMetadata> {
    return toFileView(await this.find(fileId));
  }

  /** Files, newest first. */
  async list(request: FileListRequest): Promise<FilePage> {
    return toPageResponse(await this.store.files.list(request), toFileView);
  }

  /** The files among `fileIds` that exist, newest first, as one page; unknown ids are left out, as the SDK documents. */
  async listByIds(fileIds: readonly string[]): Promise<FilePage> {
    return { data: (await this.store.files.getMany(fileIds)).map(toFileView), next_page: null };
  }

  /**
   * The file's content: 404 for an unknown file, the SDK's `file_not_downloadable` (400) or `file_expired` (404) when
   * it cannot be had. Expired content is removed from disk on the way.
   */
  async download(fileId: string): Promise<FileDownload> {
    const file = await this.find(fileId);
    if (!file.downloadable) {
      throw new ApiErrorWithCode(
        'invalid_request_error',
        'file_not_downloadable',
        `File ${fileId} cannot be downloaded.`,
      );
    }
    if (file.expiresAt !== null && Date.parse(file.expiresAt) <= Date.now()) {
      await this.contents.remove(fileId);
      throw new ApiErrorWithCode('not_found_error', 'file_expired', `File ${fileId} expired at ${file.expiresAt}.`);
    }
    const content = await this.contents.read(fileId);
    if (content === null) throw new ApiError('api_error', `The content of file ${fileId} is missing on the server.`);
    return { file, ...content };
  }

  /**
   * Checks that uploaded file `fileId` can be sent to the model as an image (PNG, JPEG, GIF or WebP, at most 5 MB)
   * or a document (PDF or UTF-8 text, at most 32 MB), judged by its content; `field` names it in the 400. A 404 for
   * an unknown file.
   */
  async requireMedia(fileId: string, kind: 'image' | 'document', field: string): Promise<void> {
    const file = await this.find(fileId);
    const limit = kind === 'image' ? MAX_IMAGE_BYTES : MAX_DOCUMENT_BYTES;
    if (file.sizeBytes > limit) {
      throw invalidField(field, `file ${fileId} is ${file.sizeBytes} bytes; an ${kind} may be at most ${limit} bytes`);
    }
    const head = await this.contents.head(fileId, SNIFF_BYTES);
    if (head === null) throw new ApiError('api_error', `The content of file ${fileId} is missing on the server.`);
    const mediaType = kind === 'image' ? sniffImageMediaType(head) : sniffDocumentMediaType(head);
    if (mediaType === null) {
      throw invalidField(
        field,
        kind === 'image'
          ? `file ${fileId} is not a PNG, JPEG, GIF or WebP image`
          : `file ${fileId} is neither a PDF nor UTF-8 plain text`,
      );
    }
  }

  /**
   * Checks that uploaded file `fileId` can be an outcome's rubric: it exists and is UTF-8 plain text of at most
   * `MAX_RUBRIC_BYTES`; a 400 naming `field` otherwise (an unknown file included: the request, not the path, is wrong).
   */
  async requireRubric(fileId: string, field: string): Promise<void> {
    const file = await this.store.files.get(fileId);
    if (file === null) throw invalidField(field, `no file ${fileId}: upload the rubric with the Files API first`);
    if (file.sizeBytes > MAX_RUBRIC_BYTES) {
      throw invalidField(
        field,
        `file ${fileId} is ${file.sizeBytes} bytes; a rubric may be at most ${MAX_RUBRIC_BYTES}`,
      );
    }
    const head = await this.contents.head(fileId, SNIFF_BYTES);
    if (head === null) throw new ApiError('api_error', `The content of file ${fileId} is missing on the server.`);
    if (sniffDocumentMediaType(head) !== 'text/plain') {
      throw invalidField(field, `file ${fileId} is not UTF-8 plain text (a rubric is text or markdown)`);
    }
  }

  /** Deletes the file: its metadata, then its content. */
  async delete(fileId: string): Promise<BetaDeletedFile> {
    requireResourceId('file', fileId, 'file_id');
    if (!(await this.store.files.delete(fileId))) throw notFound(fileId);
    await this.contents.remove(fileId);
    return { id: fileId, type: 'file_deleted' };
  }

  /** Clears what a crash left in the files folder (see `FileContentStore.removeLeftovers`). */
  async removeLeftovers(): Promise<string[]> {
    return this.contents.removeLeftovers(
      async (fileIds) => new Set((await this.unscoped.files.getMany(fileIds)).map((file) => file.id)),
    );
  }

  private async find(fileId: string): Promise<StoredFile> {
    requireResourceId('file', fileId, 'file_id');
    const file = await this.store.files.get(fileId);
    if (file === null) throw notFound(fileId);
    return file;
  }
}

/** The largest rubric file, in bytes: 262,144 characters of UTF-8 text at most (the hosted rubric limit). */
const MAX_RUBRIC_BYTES = 4 * 262_144;

/** The largest image the Messages API takes, in bytes. */
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** The largest document Keel sends to the model: the Messages API's request limit. */
const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
/** How much of a file's start is read to judge its type. */
const SNIFF_BYTES = 64 * 1024;

function notFound(fileId: string): ApiError {
  return new ApiError('not_found_error', `No file ${fileId}.`);
}
