import { z } from 'zod';
import { booleanQuery } from '../page-query';
import { requestBody } from '../request-body';

/** Query fields of the Admin API's listings: `limit` (1 to 1000, default 20) and an id cursor either way. */
const idPageQueryFields = {
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after_id: z.string().min(1).optional(),
  before_id: z.string().min(1).optional(),
};

/** The query of `GET /v1/organizations/workspaces` (`WorkspaceListParams`). */
export const workspaceListQuery = z
  .object({ ...idPageQueryFields, include_archived: booleanQuery.default(false) })
  .loose();

/** The query of `GET /v1/organizations/api_keys` (`APIKeyListParams`); `expired` matches no Keel key. */
export const apiKeyListQuery = z
  .object({
    ...idPageQueryFields,
    status: z.enum(['active', 'inactive', 'archived', 'expired']).optional(),
    workspace_id: z.string().min(1).optional(),
  })
  .loose();

const workspaceName = z
  .string({ error: (issue) => (issue.input === undefined ? 'name is required' : 'expected a string') })
  .min(1, 'must be 1 to 40 characters')
  .max(40, 'must be 1 to 40 characters')
  .refine((name) => name.trim() !== '', 'must not be blank');

/** The body of `POST /v1/organizations/workspaces` (`WorkspaceCreateParams`: the name; Keel keeps no display color). */
export const createWorkspaceBody = requestBody({ name: workspaceName });

/** The body of `POST /v1/organizations/workspaces/{workspace_id}` (`WorkspaceUpdateParams`: the name). */
export const updateWorkspaceBody = requestBody({ name: workspaceName });

const keyName = z
  .string({ error: (issue) => (issue.input === undefined ? 'name is required' : 'expected a string') })
  .min(1, 'must be 1 to 500 characters')
  .max(500, 'must be 1 to 500 characters');

/**
 * The body of `POST /v1/organizations/api_keys`, a Keel extension (the hosted API makes keys in its Console only): the
 * key's name, its workspace (the default one when omitted) and whether it is an admin key.
 */
export const createApiKeyBody = requestBody({
  name: keyName,
  workspace_id: z.string().min(1).optional(),
  admin: z.boolean().optional(),
});

/** The body of `POST /v1/organizations/api_keys/{api_key_id}` (`APIKeyUpdateParams`): omitted or `null` keeps a field. */
export const updateApiKeyBody = requestBody({
  name: keyName.nullable().optional(),
  status: z.enum(['active', 'inactive', 'archived']).nullable().optional(),
});
