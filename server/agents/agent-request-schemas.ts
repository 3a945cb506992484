import { z } from 'zod';
import { agentToolsParams, duplicateName } from './agent-tool-schemas';
import { requestBody } from '../request-body';

/** One entry of `mcp_servers`. */
const mcpServer = z
  .object({
    type: z.literal('url'),
    name: z.string().min(1).max(255),
    url: z.url({ protocol: /^https?$/, error: 'expected an http or https URL' }),
  })
  .strict();

/** The `mcp_servers` list: at most 20, names unique. */
export const mcpServersParams = z
  .array(mcpServer)
  .max(20, 'at most 20 MCP servers')
  .superRefine((servers, context) => {
    const problem = duplicateName(servers);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });

const effortLevel = z.enum(['low', 'medium', 'high', 'xhigh', 'max']);
const modelId = z.string().min(1, 'model must not be empty').max(256);

const modelConfig = z
  .object({
    id: modelId,
    effort: z
      .union([effortLevel, z.object({ type: effortLevel }).strict()], {
        error: 'expected low, medium, high, xhigh or max, or an object with one of them as type',
      })
      .nullable()
      .optional(),
    inference_geo: z.string().min(1).max(64).nullable().optional(),
    speed: z.enum(['standard', 'fast']).nullable().optional(),
  })
  .strict();

/** A model as a create or update takes it: an id, or a `model_config` object (whose first problem the error names). */
export const modelParams = z.union([modelId, modelConfig], {
  error: (issue) => {
    if (issue.input === undefined) return 'model is required';
    if (typeof issue.input !== 'object' || issue.input === null) return 'expected a model id or a model_config object';
    const problem = modelConfig.safeParse(issue.input).error?.issues[0];
    return problem === undefined ? undefined : `${problem.path.join('.') || 'model'}: ${problem.message}`;
  },
});

const skill = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('anthropic'),
      skill_id: z.string().min(1).max(256),
      version: z.string().max(64).nullable().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('custom'),
      skill_id: z.string().min(1).max(256),
      version: z.string().max(64).nullable().optional(),
    })
    .strict(),
]);

/** The `skills` list. */
export const skillsParams = z.array(skill).max(64);

/** `execution_identity`: the default service account, or an AWS role. */
export const executionIdentityParams = z.discriminatedUnion('type', [
  z.object({ type: z.literal('service_account') }).strict(),
  z.object({ type: z.literal('aws_role'), role_arn: z.string().min(1).max(2048) }).strict(),
]);

/** At most this many agents in a coordinator's roster. */
export const MAX_ROSTER_AGENTS = 20;

/** The entry types Keel knows of but does not serve, and why each is refused. */
const UNSERVED_ENTRIES: Record<string, string> = {
  advisor: "Keel does not serve advisor roster entries yet: list agents (an id, {type: 'agent', id}) or {type: 'self'}",
};

/** The type of an object roster entry, when it has one. */
function entryType(input: unknown): unknown {
  return typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
}

/** An object roster entry: a reference with an optional version, or `self`. */
const rosterObjectEntry = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('agent'),
        id: z.string().min(1, 'an agent id must not be empty').max(64),
        version: z.number().int().min(1, 'must be at least 1').nullable().optional(),
      })
      .strict(),
    z.object({ type: z.literal('self') }).strict(),
  ],
  {
    error: (issue) => {
      const type = entryType(issue.input);
      if (typeof type === 'string' && UNSERVED_ENTRIES[type] !== undefined) return UNSERVED_ENTRIES[type];
      return "expected an agent id, {type: 'agent', id, version?} or {type: 'self'}";
    },
  },
);

/** One roster entry: an agent id (its latest version), a reference with an optional version, or `self`. */
const rosterEntryParams = z.union([z.string().min(1, 'an agent id must not be empty').max(64), rosterObjectEntry], {
  error: (issue) => {
    if (typeof issue.input !== 'object' || issue.input === null) {
      return "expected an agent id, {type: 'agent', id, version?} or {type: 'self'}";
    }
    const problem = rosterObjectEntry.safeParse(issue.input).error?.issues[0];
    if (problem === undefined) return undefined;
    // A wrong or unserved `type` is the entry's problem as a whole; any other names its field.
    return problem.path.length === 0 || problem.path[0] === 'type'
      ? problem.message
      : `${problem.path.join('.')}: ${problem.message}`;
  },
});

/** A roster entry as parsed. */
export type RosterEntryParams = z.infer<typeof rosterEntryParams>;

/** `multiagent` of type `coordinator`: the roster of agents the coordinator may run as session threads. */
const coordinatorParams = z
  .object({
    type: z.literal('coordinator'),
    agents: z
      .array(rosterEntryParams)
      .min(1, 'a coordinator lists at least 1 agent')
      .max(MAX_ROSTER_AGENTS, `a coordinator lists at most ${MAX_ROSTER_AGENTS} agents`),
  })
  .strict();

/** Coordinator parameters as parsed. */
export type CoordinatorParams = z.infer<typeof coordinatorParams>;

/**
 * `multiagent`: a `coordinator` roster, or `null` for a single-threaded agent. The `multiagent_20261001` configuration
 * (advisor, subagents, workflows) is refused with a message that says so.
 */
const multiagentParams = z
  .discriminatedUnion('type', [coordinatorParams], {
    error: (issue) =>
      entryType(issue.input) === 'multiagent_20261001'
        ? "Keel does not serve multiagent_20261001 yet: use {type: 'coordinator', agents: [...]}"
        : "expected {type: 'coordinator', agents: [...]} or null",
  })
  .nullable();

const agentName = z
  .string({ error: (issue) => (issue.input === undefined ? 'name is required' : 'expected a string') })
  .max(256)
  .refine((name) => name.trim() !== '', 'name must not be empty');
const metadataKey = z
  .string()
  .min(1, 'metadata keys must not be empty')
  .max(64, 'metadata keys are at most 64 characters');
const metadataValue = z.string().max(512, 'metadata values are at most 512 characters');

/** At most this many metadata keys on an agent. */
export const MAX_METADATA_KEYS = 16;

/** The body of `POST /v1/agents` (`AgentCreateParams`). */
export const createAgentBody = requestBody({
  model: modelParams,
  name: agentName,
  description: z.string().max(2048).nullable().optional(),
  execution_identity: executionIdentityParams.nullable().optional(),
  mcp_servers: mcpServersParams.optional(),
  metadata: z
    .record(metadataKey, metadataValue)
    .refine((metadata) => Object.keys(metadata).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`)
    .optional(),
  multiagent: multiagentParams.optional(),
  skills: skillsParams.optional(),
  system: z.string().max(200_000).nullable().optional(),
  tools: agentToolsParams.optional(),
});

/** The body of `POST /v1/agents/{agent_id}` (`AgentUpdateParams`): omitted fields keep their value. */
export const updateAgentBody = requestBody({
  description: z.string().max(2048).nullable().optional(),
  execution_identity: executionIdentityParams.nullable().optional(),
  mcp_servers: mcpServersParams.nullable().optional(),
  metadata: z.record(metadataKey, metadataValue.nullable()).nullable().optional(),
  model: modelParams.optional(),
  multiagent: multiagentParams.optional(),
  name: agentName.optional(),
  skills: skillsParams.nullable().optional(),
  system: z.string().max(200_000).nullable().optional(),
  tools: agentToolsParams.nullable().optional(),
  version: z.number().int().min(1, 'must be at least 1').optional(),
});

/** A parsed create body. */
export type CreateAgentBody = z.infer<typeof createAgentBody>;

/** A parsed update body. */
export type UpdateAgentBody = z.infer<typeof updateAgentBody>;
