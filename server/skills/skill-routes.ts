import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { contentDisposition } from '../files/content-disposition';
import { pageQueryFields, toPageRequest } from '../page-query';
import { withContract } from '../openapi/route-contract';
import { parseOrThrow } from '../validation';
import { readSkillUpload } from './read-skill-upload';
import { MAX_SKILL_DISPLAY_NAME } from './skill-upload-rules';
import type { SkillService } from './skill-service';

const listSkillsQuery = z.object({ ...pageQueryFields, source: z.string().max(64).nullable().optional() }).loose();

const listVersionsQuery = z.object(pageQueryFields).loose();

type SkillParams = { Params: { skillId: string } };
type VersionParams = { Params: { skillId: string; version: string } };

/**
 * The multipart form of a skill upload, for the OpenAPI document: read part by part (`readSkillUpload`), so its shape
 * is written here. `display_name` is taken on create only.
 */
function uploadBody(withDisplayName: boolean): Record<string, unknown> {
  return {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['files[]'],
        properties: {
          'files[]': { type: 'array', items: { contentMediaType: 'application/octet-stream' } },
          ...(withDisplayName ? { display_name: { type: 'string', maxLength: MAX_SKILL_DISPLAY_NAME } } : {}),
        },
        additionalProperties: false,
      },
    },
  };
}

/**
 * Skills at the SDK's paths (`client.beta.skills`, `client.beta.skills.versions`): create, retrieve, list and delete a
 * skill; create, retrieve, list, delete and download (a zip) its versions. The multipart parser is registered in this routes' own
 * scope, so no other route accepts multipart.
 */
export function registerSkillRoutes(app: FastifyInstance, skills: SkillService): void {
  void app.register(async (scope) => {
    await scope.register(multipart);

    scope.post(
      '/v1/skills',
      withContract({ summary: 'Create a skill from uploaded files.', rawBody: uploadBody(true) }),
      async (request) => skills.create(await readSkillUpload(request, true)),
    );

    scope.get<SkillParams>('/v1/skills/:skillId', withContract({ summary: 'Retrieve a skill.' }), async (request) =>
      skills.retrieve(request.params.skillId),
    );

    scope.get('/v1/skills', withContract({ summary: 'List skills.', query: listSkillsQuery }), async (request) => {
      const query = parseOrThrow(listSkillsQuery, request.query, '');
      return skills.list({ ...toPageRequest(query), source: query.source ?? null });
    });

    scope.delete<SkillParams>(
      '/v1/skills/:skillId',
      withContract({ summary: 'Delete a skill with its versions.' }),
      async (request) => skills.delete(request.params.skillId),
    );

    scope.post<SkillParams>(
      '/v1/skills/:skillId/versions',
      withContract({ summary: 'Create a skill version from uploaded files.', rawBody: uploadBody(false) }),
      async (request) => skills.createVersion(request.params.skillId, await readSkillUpload(request, false)),
    );

    scope.get<VersionParams>(
      '/v1/skills/:skillId/versions/:version',
      withContract({ summary: 'Retrieve a skill version.' }),
      async (request) => skills.retrieveVersion(request.params.skillId, request.params.version),
    );

    scope.get<VersionParams>(
      '/v1/skills/:skillId/versions/:version/content',
      withContract({
        summary: "Download a skill version's files as a zip archive.",
        responseMediaType: 'application/zip',
      }),
      async (request, reply) => {
        const { archive, filename } = await skills.downloadVersion(request.params.skillId, request.params.version);
        return reply
          .header('content-type', 'application/zip')
          .header('content-disposition', contentDisposition(filename))
          .send(Buffer.from(archive));
      },
    );

    scope.get<SkillParams>(
      '/v1/skills/:skillId/versions',
      withContract({ summary: 'List skill versions.', query: listVersionsQuery }),
      async (request) =>
        skills.listVersions(request.params.skillId, toPageRequest(parseOrThrow(listVersionsQuery, request.query, ''))),
    );

    scope.delete<VersionParams>(
      '/v1/skills/:skillId/versions/:version',
      withContract({ summary: 'Delete a skill version.' }),
      async (request) => skills.deleteVersion(request.params.skillId, request.params.version),
    );
  });
}
