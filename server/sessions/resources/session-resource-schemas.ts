import { z } from 'zod';

/** A mount path in the sandbox: absolute, never `/` itself, no `..`. */
export const mountPath = z
  .string()
  .max(1024)
  .regex(/^\/[^\0]*$/, 'expected an absolute path such as /mnt/data/input.csv')
  .refine((value) => !value.split('/').includes('..') && value !== '/', 'must not be / or contain ..');

/**
 * A repository's mount path: under `/workspace/` (Keel's difference from the hosted API), so the clone and the agent's
 * changes to it live on the session's workspace volume and survive a replaced container; never Keel's own
 * `/workspace/.keel`.
 */
export const repositoryMountPath = mountPath.refine(
  (value) => /^\/workspace\/[^/]/.test(value) && !/^\/workspace\/\.keel(\/|$)/.test(value),
  'Keel clones a repository under /workspace/ (the session workspace volume, kept when a container is replaced), ' +
    'such as /workspace/my-repo; /workspace/.keel is reserved',
);

/** A branch name git accepts, which can also never be read as an option. */
const branchName = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (value) => !value.startsWith('-') && !value.includes('..') && !/[\0-\x20\x7f~^:?*[\\]/.test(value),
    'expected a branch name such as main',
  );

/** `checkout` of a repository resource: a branch, a full commit SHA, or the default branch (`null`). */
const repositoryCheckout = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('branch'), name: branchName }).strict(),
    z
      .object({
        type: z.literal('commit'),
        sha: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/i, 'expected a full commit SHA (40 hexadecimal digits)'),
      })
      .strict(),
  ],
  { error: "expected {type: 'branch', name} or {type: 'commit', sha}" },
);

/** A `github_repository` resource as `sessions.create` and `resources.add` take it; the URL is checked by the service. */
export const repositoryResource = z
  .object({
    type: z.literal('github_repository'),
    url: z.string().min(1).max(2048),
    authorization_token: z.string().min(1).max(10_000).optional(),
    checkout: repositoryCheckout.nullable().optional(),
    mount_path: repositoryMountPath.nullable().optional(),
  })
  .strict();

/** A `github_repository` resource as the API takes it. */
export type RepositoryResourceParams = z.infer<typeof repositoryResource>;

const fileResource = z
  .object({ type: z.literal('file'), file_id: z.string().min(1), mount_path: mountPath.nullable().optional() })
  .strict();

/** A `memory_store` resource as `sessions.create` takes it (`BetaManagedAgentsMemoryStoreResourceParam`). */
const memoryStoreResource = z
  .object({
    type: z.literal('memory_store'),
    memory_store_id: z.string().min(1).max(128),
    access: z.enum(['read_write', 'read_only'], { error: 'expected read_write or read_only' }).nullable().optional(),
    instructions: z.string().max(4096, 'must be at most 4,096 characters').nullable().optional(),
  })
  .strict();

const UNSUPPORTED_TYPE = 'expected a resource of type file, github_repository or memory_store';

/** A session resource as `sessions.create` takes it: `file`, `github_repository` or `memory_store`. */
export const sessionResource = z.discriminatedUnion('type', [fileResource, repositoryResource, memoryStoreResource], {
  error: UNSUPPORTED_TYPE,
});

/** A session resource as `sessions.create` takes it. */
export type SessionResourceParams = z.infer<typeof sessionResource>;

/**
 * The body of `POST /v1/sessions/{id}/resources` (`ResourceAddParams`, and its `github_repository` form). A memory
 * store is attached only when the session is created, as the hosted API has it.
 */
export const addResourceBody = z.discriminatedUnion(
  'type',
  [
    fileResource.extend({
      file_id: z.string().regex(/^file_[0-9A-Za-z]{8,64}$/, 'expected a file id (file_…)'),
    }),
    repositoryResource,
  ],
  {
    error: (issue) =>
      (issue.input as { type?: unknown } | undefined)?.type === 'memory_store'
        ? 'a memory_store resource is attached only when the session is created (sessions.create resources), ' +
          'never added later'
        : 'expected a resource of type file or github_repository',
  },
);

/** A resource to add, as the service takes it. */
export type AddResourceRequest = z.infer<typeof addResourceBody>;

/** The body of `POST /v1/sessions/{id}/resources/{resource_id}` (`ResourceUpdateParams`). */
export const updateResourceBody = z.object({ authorization_token: z.string().min(1).max(10_000) }).strict();
