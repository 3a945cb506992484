import { z } from 'zod';

/** The built-in tools of `agent_toolset_20260401`, as the SDK names them; Keel runs the first six in its sandbox. */
export const AGENT_TOOLSET_TOOL_NAMES = ['bash', 'edit', 'read', 'write', 'glob', 'grep', 'web_fetch', 'web_search'];

const MAX_DOMAINS = 64;

const permissionPolicy = z
  .object({
    type: z.enum(['always_allow', 'always_ask', 'auto'], { error: 'expected always_allow, always_ask or auto' }),
  })
  .strict();

const toolDefaultConfig = z
  .object({ enabled: z.boolean().nullable().optional(), permission_policy: permissionPolicy.nullable().optional() })
  .strict();

const domainName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.-]+(\/[^\s]*)?$/, 'expected a plain host name such as docs.example.com');
const domainList = z
  .array(domainName)
  .min(1, 'an empty list is rejected: omit the field instead')
  .max(MAX_DOMAINS, `at most ${MAX_DOMAINS} entries`);

const builtInToolFields = <Name extends string>(name: Name) => ({
  name: z.literal(name),
  type: z.literal(name, { error: `type must be "${name}" (the tool's name)` }).optional(),
  enabled: z.boolean().nullable().optional(),
  permission_policy: permissionPolicy.nullable().optional(),
});

const sandboxToolConfig = <Name extends string>(name: Name) => z.object(builtInToolFields(name)).strict();

const shorthandSource = z.enum(['all', 'none']);
const toolReference = z.object({ type: z.literal('tool_reference'), name: z.string().min(1).max(128) }).strict();
const toolFilter = z.union([
  shorthandSource,
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('all') }).strict(),
    z.object({ type: z.literal('none') }).strict(),
    z.object({ type: z.literal('only'), tools: z.array(toolReference).min(1).max(128) }).strict(),
    z.object({ type: z.literal('except'), tools: z.array(toolReference).min(1).max(128) }).strict(),
  ]),
]);
const userInputSource = z.union([
  shorthandSource,
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('all') }).strict(),
    z.object({ type: z.literal('none') }).strict(),
  ]),
]);
const urlSources = z
  .object({
    client_tool_results: toolFilter.nullable().optional(),
    server_tool_results: toolFilter.nullable().optional(),
    user_input: userInputSource.nullable().optional(),
  })
  .strict()
  .refine(
    (sources) =>
      ![sources.client_tool_results, sources.server_tool_results, sources.user_input].every(
        (source) => source === 'none' || (typeof source === 'object' && source?.type === 'none'),
      ),
    'setting every source to none is rejected',
  );

const userLocation = z
  .object({
    type: z.literal('approximate'),
    city: z.string().max(255).nullable().optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'expected a two-letter upper-case ISO 3166-1 country code')
      .nullable()
      .optional(),
    region: z.string().max(255).nullable().optional(),
    timezone: z.string().max(255).nullable().optional(),
  })
  .strict();

const notBothDomainLists = (config: { allowed_domains?: string[]; blocked_domains?: string[] }): boolean =>
  config.allowed_domains === undefined || config.blocked_domains === undefined;
const notBothMessage = {
  message: 'allowed_domains cannot be combined with blocked_domains',
  path: ['blocked_domains'],
};

const builtInToolConfig = z.discriminatedUnion(
  'name',
  [
    sandboxToolConfig('bash'),
    sandboxToolConfig('edit'),
    sandboxToolConfig('read'),
    sandboxToolConfig('write'),
    sandboxToolConfig('glob'),
    sandboxToolConfig('grep'),
    z
      .object({
        ...builtInToolFields('web_fetch'),
        allowed_domains: domainList.optional(),
        blocked_domains: domainList.optional(),
        max_content_tokens: z.number().int().positive().nullable().optional(),
        url_sources: urlSources.nullable().optional(),
      })
      .strict()
      .refine(notBothDomainLists, notBothMessage),
    z
      .object({
        ...builtInToolFields('web_search'),
        allowed_domains: domainList.optional(),
        blocked_domains: domainList.optional(),
        user_location: userLocation.nullable().optional(),
      })
      .strict()
      .refine(notBothDomainLists, notBothMessage),
  ],
  { error: `unknown tool name: agent_toolset_20260401 has ${AGENT_TOOLSET_TOOL_NAMES.join(', ')}` },
);

/** Error message for a list whose entries must have different `name`s, or `undefined` when they do. */
export function duplicateName(entries: ReadonlyArray<{ name: string }> | null | undefined): string | undefined {
  const seen = new Set<string>();
  for (const entry of entries ?? []) {
    if (seen.has(entry.name)) return `"${entry.name}" appears twice`;
    seen.add(entry.name);
  }
  return undefined;
}

const agentToolset = z
  .object({
    type: z.literal('agent_toolset_20260401'),
    configs: z.array(builtInToolConfig).max(AGENT_TOOLSET_TOOL_NAMES.length).optional(),
    default_config: toolDefaultConfig.nullable().optional(),
  })
  .strict()
  .superRefine((toolset, context) => {
    const problem = duplicateName(toolset.configs);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['configs'], message: problem });
  });

const mcpToolset = z
  .object({
    type: z.literal('mcp_toolset'),
    mcp_server_name: z.string().min(1).max(255),
    configs: z
      .array(
        z
          .object({
            name: z.string().min(1).max(128),
            enabled: z.boolean().nullable().optional(),
            permission_policy: permissionPolicy.nullable().optional(),
          })
          .strict(),
      )
      .max(256)
      .optional(),
    default_config: toolDefaultConfig.nullable().optional(),
  })
  .strict()
  .superRefine((toolset, context) => {
    const problem = duplicateName(toolset.configs);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['configs'], message: problem });
  });

const customTool = z
  .object({
    type: z.literal('custom'),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected 1 to 128 letters, digits, underscores and hyphens'),
    description: z.string().min(1, 'description must not be empty').max(10_000),
    input_schema: z.looseObject({
      type: z.literal('object'),
      properties: z.record(z.string(), z.unknown()).nullable().optional(),
      required: z.array(z.string()).nullable().optional(),
    }),
  })
  .strict();

/** The `tools` list of a create or update: the agent toolset at most once, one MCP toolset per server, unique names. */
export const agentToolsParams = z
  .array(
    z.discriminatedUnion('type', [agentToolset, mcpToolset, customTool], {
      error: 'unknown tool type: expected agent_toolset_20260401, mcp_toolset or custom',
    }),
  )
  .max(256, 'at most 256 tools')
  .superRefine((tools, context) => {
    const seen = new Set<string>();
    const builtInNames = tools.some((tool) => tool.type === 'agent_toolset_20260401')
      ? new Set(AGENT_TOOLSET_TOOL_NAMES)
      : new Set<string>();
    tools.forEach((tool, index) => {
      const key =
        tool.type === 'agent_toolset_20260401'
          ? tool.type
          : tool.type === 'mcp_toolset'
            ? `mcp_toolset ${tool.mcp_server_name}`
            : `custom ${tool.name}`;
      if (seen.has(key)) {
        context.addIssue({ code: 'custom', path: [index], message: `${key} appears twice` });
      }
      seen.add(key);
      if (tool.type === 'custom' && builtInNames.has(tool.name)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `"${tool.name}" is the name of a tool of agent_toolset_20260401`,
        });
      }
    });
  });

/** A parsed `tools` list. */
export type AgentToolsParams = z.infer<typeof agentToolsParams>;
