import { z } from 'zod';
import { pageQueryFields } from '../../page-query';

const threadStatus = z.enum(['running', 'idle', 'rescheduling', 'terminated'], {
  error: 'expected running, idle, rescheduling or terminated',
});

/**
 * The query of `GET /v1/sessions/{id}/threads`: the shared `limit` and `page` fields (100 threads a page by default,
 * as the hosted list), and `statuses[]`, which the SDK writes with brackets (`statuses` without them is taken too).
 */
export const threadListQuery = z
  .object({
    ...pageQueryFields,
    limit: pageQueryFields.limit.removeDefault().default(100),
    'statuses[]': z.union([threadStatus, z.array(threadStatus)]).optional(),
    statuses: z.union([threadStatus, z.array(threadStatus)]).optional(),
  })
  .loose();

/** A parsed `threadListQuery`. */
export type ThreadListQuery = z.infer<typeof threadListQuery>;
