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

const AGENT_ENTRY_FORMS = "expected an agent id, {type: 'agent', id, version?} or {type: 'self'}";

/**
 * One entry of an agent list (a coordinator's `agents`, `predefined_agents`): an agent id (its latest version), a
 * reference with an optional version, or `self`; an object of a type in `unserved` is refused with its message.
 */
function agentEntryParams(unserved: Record<string, string>) {
  const objectEntry = z.discriminatedUnion(
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
        if (typeof type === 'string' && unserved[type] !== undefined) return unserved[type];
        return AGENT_ENTRY_FORMS;
      },
    },
  );
  return z.union([z.string().min(1, 'an agent id must not be empty').max(64), objectEntry], {
    error: (issue) => {
      if (typeof issue.input !== 'object' || issue.input === null) return AGENT_ENTRY_FORMS;
      const problem = objectEntry.safeParse(issue.input).error?.issues[0];
      if (problem === undefined) return undefined;
      // A wrong or unserved `type` is the entry's problem as a whole; any other names its field.
      return problem.path.length === 0 || problem.path[0] === 'type'
        ? problem.message
        : `${problem.path.join('.')}: ${problem.message}`;
    },
  });
}

/** One roster entry: an agent id (its latest version), a reference with an optional version, or `self`. */
const rosterEntryParams = agentEntryParams(UNSERVED_ENTRIES);

/** A roster entry as parsed (a coordinator's, or a `predefined_agents` entry: both parse to this). */
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

const disabledParams = z.object({ type: z.literal('disabled') }).strict();
const ENABLED_OR_DISABLED = "expected {type: 'enabled'} or {type: 'disabled'}";

/** `inline_agents`: whether the agent may define agents itself (Keel runs none: the check is on the merged result). */
const inlineAgentsParams = z.discriminatedUnion(
  'type',
  [z.object({ type: z.literal('enabled') }).strict(), disabledParams],
  { error: ENABLED_OR_DISABLED },
);

/** `subagents` or `workflows`: disabled, or enabled with its inline and predefined agents (each may be omitted). */
const agentPoolParams = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('enabled'),
        inline_agents: inlineAgentsParams.nullable().optional(),
        predefined_agents: z
          .array(agentEntryParams({}))
          .max(MAX_ROSTER_AGENTS, `at most ${MAX_ROSTER_AGENTS} predefined agents`)
          .nullable()
          .optional(),
      })
      .strict(),
    disabledParams,
  ],
  { error: "expected {type: 'enabled', inline_agents?, predefined_agents?} or {type: 'disabled'}" },
);

/** `advisor`: disabled, or enabled with the advisor's model. */
const advisorParams = z.discriminatedUnion(
  'type',
  [z.object({ type: z.literal('enabled'), model: modelId }).strict(), disabledParams],
  { error: "expected {type: 'enabled', model} or {type: 'disabled'}" },
);

/**
 * `multiagent` of type `multiagent_20261001`, as sent: each member may be omitted (on update: keeps its stored value)
 * or null (takes its default). Which combinations Keel runs is checked on the merged result (`agent-multiagent.ts`).
 */
const multiagent20261001Params = z
  .object({
    type: z.literal('multiagent_20261001'),
    advisor: advisorParams.nullable().optional(),
    subagents: agentPoolParams.nullable().optional(),
    workflows: agentPoolParams.nullable().optional(),
  })
  .strict();

/** `multiagent_20261001` parameters as parsed. */
export type Multiagent20261001Params = z.infer<typeof multiagent20261001Params>;

/** `subagents` or `workflows` of `multiagent_20261001` as parsed. */
export type AgentPoolParams = z.infer<typeof agentPoolParams>;

/** `multiagent`: a `coordinator` roster, a `multiagent_20261001` configuration, or `null` for a single-threaded agent. */
const multiagentParams = z
  .discriminatedUnion('type', [coordinatorParams, multiagent20261001Params], {
    error:
      "expected {type: 'coordinator', agents: [...]}, {type: 'multiagent_20261001', subagents: {...}, ...} or null",
  })
  .nullable();

/** `multiagent` as parsed (not null). */
export type MultiagentParams = NonNullable<z.infer<typeof multiagentParams>>;

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
