import type { ToolOutput } from '../common/conversation';
import type { Tool } from '../common/model';

/** The tools a coordinator's model delegates with: start a child thread, or write to one it started. */
export const THREAD_TOOL_NAMES = ['spawn_agent', 'send_to_thread'] as const;

/** The name of a delegation tool. */
export type ThreadToolName = (typeof THREAD_TOOL_NAMES)[number];

/** What the primary thread's turn needs from its session to run a delegation tool call. */
export interface ThreadTools {
  /** The roster's agent names, which `spawn_agent` takes. */
  agentNames: string[];
  /**
   * Runs one delegation call whose input `parseThreadToolInput` accepted; `eventId` is the id reserved for the
   * call's `agent.thread_message_sent`. Answers with the tool's result for the model.
   */
  run(request: ThreadToolRequest, eventId: string): Promise<ToolOutput>;
}

/** A delegation call, its input checked. */
export type ThreadToolRequest =
  { kind: 'spawn'; agentName: string; text: string } | { kind: 'send'; threadId: string; text: string };

/** Whether `name` is a delegation tool's. */
export function isThreadToolName(name: string): name is ThreadToolName {
  return (THREAD_TOOL_NAMES as readonly string[]).includes(name);
}

/** The delegation tools' definitions, as the model gets them, for a roster of `agentNames`. */
export function threadToolDefinitions(agentNames: string[]): Tool[] {
  return [
    {
      name: 'spawn_agent',
      description:
        'Start a new thread running one of your callable agents, and send it a task. The agent works on its own, in ' +
        'the same sandbox, with its own context; this returns at once with the thread id. When the agent ends its ' +
        'turn, its reply arrives as a message from that thread.',
      input_schema: {
        type: 'object',
        properties: {
          agent_name: { type: 'string', enum: agentNames, description: 'Which callable agent runs the thread.' },
          message: { type: 'string', description: 'The task: everything the agent needs to know.' },
        },
        required: ['agent_name', 'message'],
      },
    },
    {
      name: 'send_to_thread',
      description:
        'Send a follow-up message to a thread you started with spawn_agent; its agent keeps everything from its ' +
        'earlier turns. Its reply arrives as a message from that thread.',
      input_schema: {
        type: 'object',
        properties: {
          session_thread_id: { type: 'string', description: 'The thread id spawn_agent returned (sthr_…).' },
          message: { type: 'string' },
        },
        required: ['session_thread_id', 'message'],
      },
    },
  ];
}

/** Checks a delegation call's input: the request to run, or the error the model gets as the tool's result. */
export function parseThreadToolInput(
  name: ThreadToolName,
  input: Record<string, unknown>,
  agentNames: readonly string[],
): ThreadToolRequest | { kind: 'invalid'; message: string } {
  const text = input['message'];
  if (typeof text !== 'string' || text.trim() === '') {
    return { kind: 'invalid', message: `${name} needs a non-empty string "message".` };
  }
  if (name === 'spawn_agent') {
    const agentName = input['agent_name'];
    if (typeof agentName !== 'string' || !agentNames.includes(agentName)) {
      return {
        kind: 'invalid',
        message: `spawn_agent needs "agent_name", one of: ${agentNames.map((known) => JSON.stringify(known)).join(', ')}.`,
      };
    }
    return { kind: 'spawn', agentName, text };
  }
  const threadId = input['session_thread_id'];
  if (typeof threadId !== 'string' || threadId === '') {
    return { kind: 'invalid', message: 'send_to_thread needs a string "session_thread_id" that spawn_agent returned.' };
  }
  return { kind: 'send', threadId, text };
}

/** The text a coordinator's conversation gets for a thread's reply: who sent it, then what it said. */
export function threadReplyText(threadId: string, agentName: string, reply: string): string {
  return `Message from thread ${threadId} (agent ${agentName}):\n${reply}`;
}
