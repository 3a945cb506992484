/**
 * The agent a session runs, snapshotted into the Workflow input when the session starts, so later changes to an
 * agent never change a running session.
 */
export interface AgentSnapshot {
  /** `agent_…` id when the agent comes from the control plane; `null` for an inline agent. */
  id: string | null;
  version: number;
  name: string;
  model: string;
  system: string | null;
  maxTokens: number;
  /** Names of the built-in sandbox tools offered to the model (a subset of `SANDBOX_TOOL_NAMES`). */
  tools: string[];
}

/** The built-in toolset that runs inside the sandbox, named as the SDK's `agent_toolset_20260401` names it. */
export const SANDBOX_TOOL_NAMES = ['bash', 'read', 'write', 'edit', 'glob', 'grep'] as const;

/** One of the built-in sandbox tools. */
export type SandboxToolName = (typeof SANDBOX_TOOL_NAMES)[number];

/** Whether `name` is a built-in sandbox tool. */
export function isSandboxToolName(name: string): name is SandboxToolName {
  return (SANDBOX_TOOL_NAMES as readonly string[]).includes(name);
}
