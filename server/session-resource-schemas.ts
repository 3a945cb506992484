import { z } from 'zod';

/** A mount path in the sandbox: absolute, never `/` itself, no `..`. */
export const mountPath = z
  .string()
  .max(1024)
  .regex(/^\/[^\0]*$/, 'expected an absolute path such as /mnt/data/input.csv')
  .refine((value) => !value.split('/').includes('..') && value !== '/', 'must not be / or contain ..');

/** A session resource as `sessions.create` takes it: type `file` only, for now. */
export const fileResource = z.discriminatedUnion(
  'type',
  [
    z
      .object({ type: z.literal('file'), file_id: z.string().min(1), mount_path: mountPath.nullable().optional() })
      .strict(),
  ],
  { error: 'Keel supports resources of type file; github_repository and memory_store are not supported yet' },
);

/** The body of `POST /v1/sessions/{id}/resources` (`ResourceAddParams`). */
export const addResourceBody = z
  .object({
    type: z.literal('file', {
      error: 'Keel adds resources of type file; github_repository and memory_store are not supported yet',
    }),
    file_id: z.string().regex(/^file_[0-9A-Za-z]{8,64}$/, 'expected a file id (file_…)'),
    mount_path: mountPath.nullable().optional(),
  })
  .strict();

/** The body of `POST /v1/sessions/{id}/resources/{resource_id}` (`ResourceUpdateParams`). */
export const updateResourceBody = z.object({ authorization_token: z.string().min(1).max(10_000) }).strict();
