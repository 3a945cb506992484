import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isSessionId } from '../../common/ids';
import { invalidField } from '../api-error';
import { contentDisposition } from './content-disposition';
import type { FileService } from './file-service';
import { pageQueryFields, toPageRequest } from '../page-query';
import { readFileUpload } from './read-file-upload';
import { requireResourceId } from '../resource-ids';
import { parseOrThrow } from '../validation';
import { withContract } from '../openapi/route-contract';

/** The most ids one `ids` filter takes, as the SDK documents. */
const MAX_LISTED_IDS = 100;

/** A repeatable query parameter: one value or several. */
const repeated = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]));

const listQuery = z
  .object({
    // No default here: `limit` and `page` may not come with `ids`, so whether they were sent matters.
    limit: z.coerce.number().int().min(1).max(100).optional(),
    page: pageQueryFields.page,
    // The SDK writes arrays as `ids[]=…&ids[]=…`; plain repeated `ids=` is taken too.
    'ids[]': repeated.optional(),
    ids: repeated.optional(),
    scope_id: z.string().refine(isSessionId, 'expected a session id (sesn_…)').optional(),
  })
  .loose();

type FileParams = { Params: { fileId: string } };

/**
 * The upload's multipart form, for the OpenAPI document: the form is read part by part (`readFileUpload`), not by a
 * zod schema, so its shape is written here, with the bounds `readFileUpload` checks.
 */
const FILE_UPLOAD_BODY = {
  'multipart/form-data': {
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        // Any bytes: OpenAPI 3.1 describes a binary part by its media type alone, with no JSON type.
        file: { contentMediaType: 'application/octet-stream' },
        expires_in_seconds: { type: 'integer', minimum: 3600, maximum: 7_776_000 },
      },
      additionalProperties: false,
    },
  },
};

/**
 * The file resource, at the SDK's paths: upload (multipart, streamed to disk), retrieve metadata, download content,
 * list and delete. The multipart parser is registered in this routes' own scope, so no other route accepts multipart.
 */
export function registerFileRoutes(app: FastifyInstance, files: FileService): void {
  void app.register(async (scope) => {
    await scope.register(multipart);

    scope.post('/v1/files', withContract({ summary: 'Upload a file.', rawBody: FILE_UPLOAD_BODY }), async (request) =>
      files.create(await readFileUpload(request, files.contents, files.maxBytes)),
    );

    scope.get('/v1/files', withContract({ summary: 'List files.', query: listQuery }), async (request) => {
      const query = parseOrThrow(listQuery, request.query, '');
      if (query['ids[]'] === undefined && query.ids === undefined) {
        return files.list({
          ...toPageRequest({ ...query, limit: query.limit ?? 20 }),
          scopeId: query.scope_id ?? null,
        });
      }
      const ids = [...(query['ids[]'] ?? []), ...(query.ids ?? [])];
      if (query.limit !== undefined || (query.page ?? '') !== '') {
        throw invalidField('ids', 'cannot be combined with limit or page: a list by ids is one page');
      }
      ids.forEach((id, index) => requireResourceId('file', id, `ids[${index}]`));
      const unique = [...new Set(ids)];
      if (unique.length > MAX_LISTED_IDS) throw invalidField('ids', `at most ${MAX_LISTED_IDS} ids`);
      const page = await files.listByIds(unique);
      const scopeId = query.scope_id;
      return scopeId === undefined ? page : { ...page, data: page.data.filter((file) => file.scope?.id === scopeId) };
    });

    scope.get<FileParams>(
      '/v1/files/:fileId',
      withContract({ summary: "Retrieve a file's metadata." }),
      async (request) => files.retrieve(request.params.fileId),
    );

    scope.get<FileParams>(
      '/v1/files/:fileId/content',
      withContract({ summary: "Download a file's content.", responseMediaType: '*/*' }),
      async (request, reply) => {
        const { file, stream, sizeBytes } = await files.download(request.params.fileId);
        return reply
          .header('content-type', file.mimeType)
          .header('content-length', sizeBytes)
          .header('content-disposition', contentDisposition(file.filename))
          .send(stream);
      },
    );

    scope.delete<FileParams>('/v1/files/:fileId', withContract({ summary: 'Delete a file.' }), async (request) =>
      files.delete(request.params.fileId),
    );
  });
}
