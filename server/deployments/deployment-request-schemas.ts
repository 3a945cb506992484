import { z } from 'zod';
import { booleanQuery, pageQueryFields } from '../page-query';
import { refineEventOrder, userEvent } from '../sessions/events/event-request-schemas';
import { sessionResource } from '../sessions/resources/session-resource-schemas';

/** The agent of a deployment: an id (the latest version is pinned) or `{type: 'agent', id, version?}`. */
const deploymentAgent = z.union(
  [
    z.string().min(1),
    z.object({ type: z.literal('agent'), id: z.string().min(1), version: z.number().int().min(1).optional() }).strict(),
  ],
  { error: "expected an agent id or {type: 'agent', id, version?}" },
);

/** The event types a deployment sends each session it creates, as the hosted API allows. */
const INITIAL_EVENT_TYPES = ['user.message', 'user.define_outcome', 'system.message'];

/**
 * `initial_events`: 1 to 50 events, each a `user.message`, `user.define_outcome` or `system.message`, in the order
 * `events.send` takes them (`refineEventOrder`).
 */
const initialEvents = z
  .array(userEvent)
  .min(1, 'a deployment sends at least 1 initial event')
  .max(50, 'a deployment sends at most 50 initial events')
  .superRefine((events, context) => {
    events.forEach((event, index) => {
      if (!INITIAL_EVENT_TYPES.includes(event.type)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'type'],
          message: `expected one of ${INITIAL_EVENT_TYPES.join(', ')}; got ${event.type}`,
        });
      }
    });
    refineEventOrder(events, context, []);
  });

/**
 * A 5-field POSIX cron expression: no seconds or year field, none of `L W # ?`, no `@daily` shortcut (the hosted
 * rules). Temporal parses what passes, and refuses the rest.
 */
const cronExpression = z
  .string()
  .trim()
  .refine((value) => value.split(/\s+/).length === 5, 'expected 5 fields: minute hour day-of-month month day-of-week')
  .refine((value) => /^[0-9*,/\sA-Za-z-]+$/.test(value) && !/[LW#?@]/.test(value.replace(/[A-Z]{3}/gi, '')), {
    message: 'extended cron syntax (L, W, #, ?, @ shortcuts) is not supported',
  });

/** An IANA time zone, checked against the runtime's time zone database. */
const timezone = z.string().refine((value) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value.length > 0;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as UTC or America/Los_Angeles');

/** `schedule`: a cron expression in a time zone (both required). */
export const scheduleParams = z
  .object({ type: z.literal('cron', { error: "expected 'cron'" }), expression: cronExpression, timezone })
  .strict();

const budgetLimit = z
  .object({
    type: z.literal('limit'),
    max_list_cost: z
      .object({
        amount: z.string().regex(/^[1-9]\d{0,17}$/, 'expected a whole number of US cents greater than zero'),
        currency: z.literal('USD', { error: 'expected USD, the only currency supported' }),
      })
      .strict(),
  })
  .strict();

/** Resources: a repository's token is write-only and a deployment keeps none, so Keel refuses one here. */
const deploymentResources = z
  .array(sessionResource)
  .max(500)
  .superRefine((resources, context) => {
    resources.forEach((resource, index) => {
      if (resource.type === 'github_repository' && resource.authorization_token !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [index, 'authorization_token'],
          message: "Keel's deployments do not keep repository tokens yet: mount public repositories only",
        });
      }
    });
  });

/** The body of `POST /v1/deployments`. */
export const createDeploymentBody = z
  .object({
    agent: deploymentAgent,
    environment_id: z.string().min(1),
    initial_events: initialEvents,
    name: z.string().min(1, 'must not be empty').max(256),
    description: z.string().max(2048).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
    resources: deploymentResources.optional(),
    schedule: scheduleParams.nullable().optional(),
    vault_ids: z.array(z.string()).max(50).optional(),
    budget: budgetLimit.nullable().optional(),
  })
  .strict();

/** A parsed create body. */
export type CreateDeploymentBody = z.infer<typeof createDeploymentBody>;

/** The body of `POST /v1/deployments/{id}`: every field optional; `null` clears the clearable ones. */
export const updateDeploymentBody = z
  .object({
    agent: deploymentAgent.optional(),
    environment_id: z.string().min(1).optional(),
    initial_events: initialEvents.optional(),
    name: z.string().min(1, 'must not be empty').max(256).optional(),
    description: z.string().max(2048).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512).nullable()).nullable().optional(),
    resources: deploymentResources.nullable().optional(),
    schedule: scheduleParams.nullable().optional(),
    vault_ids: z.array(z.string()).max(50).nullable().optional(),
    budget: budgetLimit.nullable().optional(),
  })
  .strict();

/** A parsed update body. */
export type UpdateDeploymentBody = z.infer<typeof updateDeploymentBody>;

const time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' });

/** The query of `GET /v1/deployments`. */
export const listDeploymentsQuery = z
  .object({
    ...pageQueryFields,
    agent_id: z.string().min(1).optional(),
    status: z.enum(['active', 'paused'], { error: 'expected active or paused' }).optional(),
    include_archived: booleanQuery.optional(),
    'created_at[gte]': time.optional(),
    'created_at[lte]': time.optional(),
  })
  .loose();

/** The query of `GET /v1/deployment_runs`. */
export const listDeploymentRunsQuery = z
  .object({
    ...pageQueryFields,
    deployment_id: z.string().min(1).optional(),
    has_error: booleanQuery.optional(),
    trigger_type: z.enum(['schedule', 'manual'], { error: 'expected schedule or manual' }).optional(),
    'created_at[gt]': time.optional(),
    'created_at[gte]': time.optional(),
    'created_at[lt]': time.optional(),
    'created_at[lte]': time.optional(),
  })
  .loose();
