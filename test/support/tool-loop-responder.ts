import { COMPACTION_SYSTEM_PROMPT } from '../../activities/model/compact-conversation';
import type { RecordedRequest, ScriptedReply } from '../scripted-model-server';

/** A scripted model for long sessions: a fixed number of tool steps, then text; compaction requests get a summary. */
export interface ToolLoopResponder {
  respond(request: RecordedRequest): ScriptedReply;
  /** Tool steps answered so far (compaction requests not counted). */
  stepsAnswered(): number;
  /** Compaction requests answered so far. */
  compactionsAnswered(): number;
}

/** Whether a request is Keel's summarising call (its system prompt is the compaction prompt). */
export function isCompactionRequest(request: RecordedRequest): boolean {
  return JSON.stringify(request.body.system ?? '').includes(COMPACTION_SYSTEM_PROMPT.slice(0, 60));
}

/**
 * Answers `steps` model calls with a `bash` call printing `outputBytes` of fresh random text (base64, so every step's
 * output is new content), then ends the turn with `finalText`; a compaction request gets a short summary naming how
 * many steps the model has seen. `delayMsForCompaction` holds compaction answers (to kill a worker meanwhile).
 */
export function toolLoopResponder(options: {
  steps: number;
  outputBytes: number;
  finalText?: string;
  onCompactionRequest?: () => void;
  delayMsForCompaction?: number;
}): ToolLoopResponder {
  let steps = 0;
  let compactions = 0;
  const randomBytes = Math.ceil((options.outputBytes * 3) / 4);
  return {
    respond(request) {
      if (isCompactionRequest(request)) {
        compactions += 1;
        options.onCompactionRequest?.();
        return {
          kind: 'text',
          text: `Summary ${compactions}: the agent ran ${steps} commands that each printed random text.`,
          ...(options.delayMsForCompaction === undefined ? {} : { delayMs: options.delayMsForCompaction }),
        };
      }
      if (steps >= options.steps) return { kind: 'text', text: options.finalText ?? 'all steps done' };
      steps += 1;
      return {
        kind: 'tool_use',
        name: 'bash',
        input: { command: `head -c ${randomBytes} /dev/urandom | base64 -w 0 | head -c ${options.outputBytes}` },
      };
    },
    stepsAnswered: () => steps,
    compactionsAnswered: () => compactions,
  };
}
