import { z } from 'zod';
import { booleanQuery, pageQueryFields } from '../page-query';
import { requestBody } from '../request-body';

/** The statuses a dream can have, as the hosted API names them. */
export const DREAM_STATUSES = ['pending', 'running', 'completed', 'failed', 'canceled'] as const;

/** The most sessions one dream reads. */
export const MAX_DREAM_SESSIONS = 100;

/** The most characters of a dream's `instructions`. */
export const MAX_DREAM_INSTRUCTIONS = 4_096;

const modelId = z.string().min(1, 'must be 1 to 256 characters').max(256, 'must be 1 to 256 characters');

const memoryStoreInput = z.strictObject({ type: z.literal('memory_store'), memory_store_id: z.string() });
const sessionsInput = z.strictObject({
  type: z.literal('sessions'),
  session_ids: z
    .array(z.string())
    .min(1, `must list 1 to ${MAX_DREAM_SESSIONS} session ids`)
    .max(MAX_DREAM_SESSIONS, `must list 1 to ${MAX_DREAM_SESSIONS} session ids`)
    .refine((ids) => new Set(ids).size === ids.length, 'must not list a session twice'),
});

const modelConfig = z.strictObject({
  id: modelId,
  speed: z.literal('standard', { error: 'dreams accept only standard' }).nullable().optional(),
});

/** A dream's model: an id, or `{ id, speed }` (whose first problem the error names). */
const modelParam = z.union([modelId, modelConfig], {
  error: (issue) => {
    if (issue.input === undefined) return 'model is required';
    if (typeof issue.input === 'string') return modelId.safeParse(issue.input).error?.issues[0]?.message;
    if (typeof issue.input !== 'object' || issue.input === null) return 'expected a model id or a model object';
    const problem = modelConfig.safeParse(issue.input).error?.issues[0];
    return problem === undefined ? undefined : `${problem.path.join('.') || 'model'}: ${problem.message}`;
  },
});

/** The body of `POST /v1/dreams` (`DreamCreateParams`); that the stores and sessions exist is checked by the service. */
export const createDreamBody = requestBody({
  inputs: z
    .array(z.discriminatedUnion('type', [memoryStoreInput, sessionsInput]))
    .refine(
      (inputs) => inputs.filter((input) => input.type === 'memory_store').length === 1,
      'must hold exactly one memory_store entry',
    )
    .refine(
      (inputs) => inputs.filter((input) => input.type === 'sessions').length <= 1,
      'must hold at most one sessions entry',
    ),
  model: modelParam,
  instructions: z
    .string()
    .min(1, `must be 1 to ${MAX_DREAM_INSTRUCTIONS} characters`)
    .max(MAX_DREAM_INSTRUCTIONS, `must be 1 to ${MAX_DREAM_INSTRUCTIONS} characters`)
    .nullable()
    .optional(),
  output_behavior: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('create_new') }),
      z.strictObject({ type: z.literal('update_existing'), memory_store_id: z.string() }),
    ])
    .optional(),
});

/** A parsed `POST /v1/dreams` body. */
export type CreateDreamBody = z.output<typeof createDreamBody>;

/** An RFC 3339 time, turned into the store's normal form so that times compare as text. */
const timeQuery = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' })
  .transform((value) => new Date(value).toISOString());

const status = z.enum(DREAM_STATUSES);

/** The query of `GET /v1/dreams`; the SDK writes `statuses` as `statuses[]=…`, repeated. */
export const listDreamsQuery = z
  .object({
    ...pageQueryFields,
    include_archived: booleanQuery.default(false),
    'created_at[gt]': timeQuery.optional(),
    'created_at[lt]': timeQuery.optional(),
    'statuses[]': z.union([status, z.array(status)]).optional(),
    statuses: z.union([status, z.array(status)]).optional(),
  })
  .loose();
