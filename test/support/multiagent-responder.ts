import { lastUserBlocks } from '../../cli/demo-model/messages-wire';
import type { RecordedRequest, ScriptedReply } from '../scripted-model-server';

/** What a scripted thread's model is asked: the request, what its last user message holds, and which thread asks. */
export interface ThreadRequest {
  request: RecordedRequest;
  /** The text blocks of the last user message, joined by newlines. */
  text: string;
  /** The names of the tools whose results the last user message carries (`bash`, `spawn_agent`, …). */
  toolResultsOf: string[];
  /** The whole request as JSON, to look for what an earlier turn said. */
  json: string;
}

/** A scripted agent: decides each reply from the request, or `undefined` when its script has no answer (a failure). */
export type ThreadScript = (request: ThreadRequest) => ScriptedReply | undefined;

/**
 * The scripted model of a multiagent session: each request goes to the script of the agent whose system prompt it
 * carries (one coordinator, any number of roster agents), so threads that call the model at the same time each get
 * their own answers. Requests are recorded per agent; a request no agent's prompt matches fails loudly (no reply).
 */
export class MultiagentResponder {
  readonly requests = new Map<string, ThreadRequest[]>();

  constructor(private readonly scripts: Record<string, { system: string; script: ThreadScript }>) {
    for (const name of Object.keys(scripts)) this.requests.set(name, []);
  }

  /** The recorded requests of the agent `name`, oldest first. */
  of(name: string): ThreadRequest[] {
    return this.requests.get(name) ?? [];
  }

  /** The `respond` function of the scripted model server. */
  readonly respond = (request: RecordedRequest): ScriptedReply | undefined => {
    const system = JSON.stringify(request.body['system'] ?? '');
    for (const [name, { system: prompt, script }] of Object.entries(this.scripts)) {
      if (!system.includes(prompt)) continue;
      const threadRequest = describeRequest(request);
      this.of(name).push(threadRequest);
      return script(threadRequest);
    }
    return undefined;
  };
}

function describeRequest(request: RecordedRequest): ThreadRequest {
  const blocks = lastUserBlocks(request.body);
  const text = blocks
    .filter((block) => block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text as string)
    .join('\n');
  const answered = new Set(
    blocks.flatMap((block) => (block.type === 'tool_result' ? [String(block.tool_use_id)] : [])),
  );
  const toolNames = new Map<string, string>();
  for (const message of request.body.messages) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const block of message.content) {
      if (block.type === 'tool_use') toolNames.set(String(block.id), String(block.name));
    }
  }
  const toolResultsOf = [...answered].map((id) => toolNames.get(id) ?? 'unknown');
  return { request, text, toolResultsOf, json: JSON.stringify(request.body.messages) };
}
