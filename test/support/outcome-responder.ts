import { GRADER_SYSTEM_PROMPT, GRADER_TOOL_NAME } from '../../common/outcome';
import type { GraderVerdict } from '../../common/outcome';
import type { RecordedRequest, ScriptedReply } from '../scripted-model-server';

/** Whether a request is an outcome grader's call (its system prompt is the grader prompt). */
export function isGraderRequest(request: RecordedRequest): boolean {
  return JSON.stringify(request.body.system ?? '').includes(GRADER_SYSTEM_PROMPT.slice(0, 60));
}

/** A grader's scripted answer: a verdict (sent as the forced tool call), or a reply that never finishes. */
export type ScriptedVerdict = { result: GraderVerdict; explanation: string } | 'hang';

/**
 * A scripted model for outcome tests: the agent's requests take the next agent reply, the grader's the next verdict
 * (answered with the verdict tool call, as a model forced to call it answers). Both kinds of request are recorded.
 * It fails loudly (no reply) when a script runs out.
 */
export class OutcomeResponder {
  readonly agentRequests: RecordedRequest[] = [];
  readonly graderRequests: RecordedRequest[] = [];
  private readonly agentReplies: ScriptedReply[] = [];
  private readonly verdicts: ScriptedVerdict[] = [];

  /** Queues the agent's next replies. */
  agent(...replies: ScriptedReply[]): void {
    this.agentReplies.push(...replies);
  }

  /** Queues the grader's next verdicts. */
  grader(...verdicts: ScriptedVerdict[]): void {
    this.verdicts.push(...verdicts);
  }

  /** The `respond` function of the scripted model server. */
  readonly respond = (request: RecordedRequest): ScriptedReply | undefined => {
    if (isGraderRequest(request)) {
      this.graderRequests.push(request);
      const verdict = this.verdicts.shift();
      if (verdict === undefined) return undefined;
      if (verdict === 'hang') return { kind: 'hang' };
      return { kind: 'tool_use', name: GRADER_TOOL_NAME, input: verdict };
    }
    this.agentRequests.push(request);
    return this.agentReplies.shift();
  };
}
