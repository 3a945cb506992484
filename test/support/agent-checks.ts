import { BadRequestError } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import type { SessionWorkflowInput } from '../../common/session';
import { rejection } from './sdk';

/** The 400 `promise` fails with, checked to name `field` first and to contain each of `words`. */
export async function badRequest(promise: Promise<unknown>, field: string, ...words: string[]): Promise<string> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(BadRequestError);
  expect(error.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  const message = (error.error as { error: { message: string } }).error.message;
  expect(message.startsWith(`${field}: `), message).toBe(true);
  for (const word of words) expect(message).toContain(word);
  return message;
}

/** The input the session's Workflow was started with, read from the first event of its history. */
export async function sessionWorkflowInput(temporal: Client, sessionId: string): Promise<SessionWorkflowInput> {
  const history = await temporal.workflow.getHandle(sessionId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString()) as SessionWorkflowInput;
}

/** A toolset whose every tool runs without asking. */
export const allowAll = {
  type: 'agent_toolset_20260401' as const,
  default_config: { permission_policy: { type: 'always_allow' as const } },
};

/** Saves an agent `name` on the scripted model (system prompt `You are <name>.`, `allowAll` tools unless `extra` says). */
export function createNamedAgent(
  client: Anthropic,
  name: string,
  extra: Partial<Anthropic.Beta.Agents.AgentCreateParams> = {},
): Promise<BetaManagedAgentsAgent> {
  return client.beta.agents.create({
    name,
    model: 'scripted-model',
    system: `You are ${name}.`,
    tools: [allowAll],
    ...extra,
  });
}
