import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { ApiError, invalidField } from '../api-error';
import { MAX_SKILL_FILES, MAX_SKILL_UPLOAD_BYTES } from './skill-upload-rules';
import type { UploadedSkillFile } from './skill-upload-rules';

/** What a skill upload's multipart body holds: the files with their paths, and the optional display name. */
export interface SkillUploadBody {
  files: UploadedSkillFile[];
  displayName: string | null;
}

/** Room the multipart framing may take beyond the files: boundaries and part headers. */
const MULTIPART_OVERHEAD_BYTES = 256 * 1024;

/**
 * Reads the multipart body of `POST /v1/skills` and `POST /v1/skills/{id}/versions` as the SDK sends it: `files[]`
 * parts (plain `files` too) whose filenames are paths (`my-skill/SKILL.md`, kept whole), and, on create, an optional
 * `display_name` field. The files are held in memory, at most 8 MB together (a 413 beyond), since a skill is small
 * and is checked whole before anything is stored. Another field is a 400 naming it.
 */
export async function readSkillUpload(request: FastifyRequest, allowDisplayName: boolean): Promise<SkillUploadBody> {
  if (Number(request.headers['content-length']) > MAX_SKILL_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES) throw tooLarge();
  let parts: AsyncIterableIterator<Multipart>;
  try {
    parts = request.parts({
      preservePath: true,
      limits: { fileSize: MAX_SKILL_UPLOAD_BYTES, files: MAX_SKILL_FILES, fieldSize: 1024, fieldNameSize: 256 },
      isPartAFile: (fieldName, contentType, fileName) =>
        fieldName === 'files[]' || fieldName === 'files' || fileName !== undefined,
    });
  } catch {
    throw invalidField('files', 'expected a multipart/form-data body with files[] parts');
  }
  const files: UploadedSkillFile[] = [];
  let displayName: string | null = null;
  let total = 0;
  try {
    for (let next = await parts.next(); next.done !== true; next = await parts.next()) {
      const part = next.value;
      if (part.fieldname === 'files[]' || part.fieldname === 'files') {
        if (part.type !== 'file') throw invalidField('files', 'expected file parts, got a text field');
        if (typeof part.filename !== 'string' || part.filename === '') {
          part.file.resume();
          throw invalidField(`files[${files.length}]`, 'a file needs a filename: its path, such as my-skill/SKILL.md');
        }
        const content = await part.toBuffer();
        total += content.length;
        if (part.file.truncated || total > MAX_SKILL_UPLOAD_BYTES) throw tooLarge();
        files.push({ path: part.filename, content });
      } else if (part.fieldname === 'display_name' && allowDisplayName && part.type === 'field') {
        displayName = typeof part.value === 'string' ? part.value : String(part.value);
      } else {
        if (part.type === 'file') part.file.resume();
        const takes = allowDisplayName ? '"files[]" and optionally "display_name"' : '"files[]"';
        throw invalidField(part.fieldname, `unknown field: this upload takes ${takes}`);
      }
    }
  } catch (error) {
    await discardRest(parts);
    request.raw.resume();
    if (error instanceof ApiError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
    if (code === 'FST_FILES_LIMIT') throw invalidField('files', `at most ${MAX_SKILL_FILES} files`);
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
      throw invalidField('files', 'expected a multipart/form-data body with files[] parts');
    }
    throw invalidField('files', `unreadable multipart body (${(error as Error).message})`);
  }
  return { files, displayName };
}

/** Reads the rest of a refused body and drops it, so the answer reaches a client that is still sending. */
async function discardRest(parts: AsyncIterableIterator<Multipart>): Promise<void> {
  try {
    for (let next = await parts.next(); next.done !== true; next = await parts.next()) {
      if (next.value.type === 'file') next.value.file.resume();
    }
  } catch {
    // The request is refused already; what else is wrong with its body changes nothing.
  }
}

function tooLarge(): ApiError {
  return new ApiError('request_too_large', `files: a skill upload is at most ${MAX_SKILL_UPLOAD_BYTES} bytes.`);
}
