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

/** `multiagent`: Keel runs single-threaded agents, so only `null` is accepted. */
const multiagentParams = z.null({ error: 'Keel does not run multiagent orchestration yet: omit it or send null' });

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
