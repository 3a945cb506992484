import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { ApiError, invalidField } from '../api-error';
import { ApiErrorWithCode } from '../api-error-with-code';
import type { FileContentStore, TemporaryContent } from './file-content-store';
import { MAX_FILENAME_LENGTH, uploadFileName } from './upload-file-name';

/** An upload read from its multipart body: the content on disk under a temporary name, and what was said of it. */
export interface FileUpload {
  content: TemporaryContent;
  filename: string;
  mimeType: string;
  expiresInSeconds: number | null;
}

/** Room the multipart framing may take beyond the file: boundaries, part headers and the short optional field. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** The bounds of `expires_in_seconds`, as the SDK documents them: one hour to ninety days. */
const EXPIRES_IN_SECONDS = { min: 3600, max: 7_776_000 } as const;

/** A MIME type: `type/subtype` in RFC 9110 tokens, with optional parameters. */
const MIME_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/;

/** An error of the multipart body itself (malformed, cut short, over a parser limit), as opposed to one of the disk. */
class UnreadableBodyError extends Error {
  override readonly name = 'UnreadableBodyError';

  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/**
 * Reads the multipart body of `POST /v1/files` as the SDK sends it: one `file` part, streamed to a temporary file on
 * disk (never held in memory) under `maxBytes`, and an optional `expires_in_seconds` field. A missing, repeated or
 * empty `file`, or any other part, is a 400 naming the field; a file over `maxBytes` a 413 naming the limit. On any
 * failure the temporary file is removed and the rest of the body read and dropped, so a client still sending gets
 * the answer.
 */
export async function readFileUpload(
  request: FastifyRequest,
  contents: FileContentStore,
  maxBytes: number,
): Promise<FileUpload> {
  if (Number(request.headers['content-length']) > maxBytes + MULTIPART_OVERHEAD_BYTES) throw tooLarge(maxBytes);
  const parts = request.parts({
    // Over `fileSize` the parser cuts the file short and marks it `truncated`, which is checked once it is written.
    limits: { fileSize: maxBytes, parts: 8, fieldSize: 1024, fieldNameSize: 256 },
    // `file` is the content even without a filename (the SDK sends none for a nameless File): never a text field.
    isPartAFile: (fieldName, contentType, fileName) =>
      fieldName === 'file' || contentType === 'application/octet-stream' || fileName !== undefined,
  });
  let upload: Omit<FileUpload, 'expiresInSeconds'> | null = null;
  let expiresInSeconds: number | null = null;
  try {
    for (let part = await nextPart(parts); part !== null; part = await nextPart(parts)) {
      if (part.fieldname === 'file') {
        if (part.type !== 'file') throw refuse(part, invalidField('file', 'expected a file part, got a text field'));
        if (upload !== null) throw refuse(part, invalidField('file', 'send exactly one file per upload'));
        const mimeType = part.mimetype.trim();
        if (!MIME_TYPE.test(mimeType) || mimeType.length > 255) {
          throw refuse(part, invalidField('file', `"${mimeType.slice(0, 80)}" is not a MIME type`));
        }
        const filename = uploadFileName(part.filename, mimeType);
        if (filename.length > MAX_FILENAME_LENGTH) {
          throw refuse(part, invalidField('file', `the filename is longer than ${MAX_FILENAME_LENGTH} characters`));
        }
        upload = { content: await contents.write(readable(part.file)), filename, mimeType };
        if (part.file.truncated) throw tooLarge(maxBytes);
        if (upload.content.sizeBytes === 0) throw invalidField('file', 'the file is empty');
      } else if (part.fieldname === 'expires_in_seconds') {
        if (part.type !== 'field') {
          throw refuse(part, invalidField('expires_in_seconds', 'expected a number, got a file'));
        }
        if (expiresInSeconds !== null) throw invalidField('expires_in_seconds', 'sent more than once');
        expiresInSeconds = parseExpiresInSeconds(part.value);
      } else {
        throw refuse(
          part,
          invalidField(part.fieldname, 'unknown field: an upload takes "file" and optionally "expires_in_seconds"'),
        );
      }
    }
    if (upload === null) throw invalidField('file', 'required: a multipart part named "file" holding the content');
    return { ...upload, expiresInSeconds };
  } catch (error) {
    await upload?.content.discard();
    await discardRest(request, parts);
    throw toUploadError(error, maxBytes);
  }
}

/** The next part, or `null` after the last; an error of the parser becomes an `UnreadableBodyError`. */
async function nextPart(parts: AsyncIterableIterator<Multipart>): Promise<Multipart | null> {
  try {
    const result = await parts.next();
    return result.done === true ? null : result.value;
  } catch (error) {
    throw new UnreadableBodyError(error);
  }
}

/** The file part's bytes; an error while reading them (the body cut short, say) becomes an `UnreadableBodyError`. */
async function* readable(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (error) {
    throw new UnreadableBodyError(error);
  }
}

/** Lets the parser move past a refused part (a file part's bytes are dropped), and returns `error` to throw. */
function refuse(part: Multipart, error: ApiError): ApiError {
  if (part.type === 'file') part.file.resume();
  return error;
}

function parseExpiresInSeconds(value: unknown): number {
  const text = typeof value === 'string' ? value.trim() : '';
  const seconds = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= EXPIRES_IN_SECONDS.min && seconds <= EXPIRES_IN_SECONDS.max)) {
    throw invalidField(
      'expires_in_seconds',
      `expected a whole number of seconds from ${EXPIRES_IN_SECONDS.min} to ${EXPIRES_IN_SECONDS.max}`,
    );
  }
  return seconds;
}

/** Reads the rest of a refused body and drops it, so the response reaches a client that is still sending. */
async function discardRest(request: FastifyRequest, parts: AsyncIterableIterator<Multipart>): Promise<void> {
  try {
    for (let result = await parts.next(); result.done !== true; result = await parts.next()) {
      if (result.value.type === 'file') result.value.file.resume();
    }
  } catch {
    // The request is refused already; what else is wrong with its body changes nothing.
  }
  request.raw.resume();
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError('request_too_large', `file: the file is over the limit of ${maxBytes} bytes.`);
}

/** The API error for a failed upload: the body's own faults are 400s, a full disk the SDK's storage-quota error. */
function toUploadError(error: unknown, maxBytes: number): unknown {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ApiErrorWithCode(
      'invalid_request_error',
      'storage_quota_exceeded',
      'The server has no room left for files: delete some and retry.',
    );
  }
  if (!(error instanceof UnreadableBodyError)) return error;
  const reasonCode = (error.reason as { code?: unknown }).code;
  if (reasonCode === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(maxBytes);
  if (reasonCode === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return invalidField('file', 'expected a multipart/form-data body with a "file" part');
  }
  if (reasonCode === 'FST_PARTS_LIMIT' || reasonCode === 'FST_FIELDS_LIMIT' || reasonCode === 'FST_FILES_LIMIT') {
    return invalidField('file', 'too many parts: an upload takes "file" and optionally "expires_in_seconds"');
  }
  return invalidField('file', `unreadable multipart body (${error.message})`);
}
