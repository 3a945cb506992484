import type { SessionEvent } from '../common/events';

/** How `describeEvent` prints: in full (`keel run`) or folded for a terminal conversation (`keel chat`). */
export interface DescribeOptions {
  /** Keep this many lines of a tool result and say how many were left out; all lines when absent. */
  foldResultLines?: number;
  /** Cut a tool call's input to this many characters; the whole input when absent. */
  inputChars?: number;
  /** Also print `user.message` events (as `> text`), for a transcript of the history. */
  userMessages?: boolean;
}

/**
 * The text to print for a logged event, or null for events that print nothing. An `agent.message` prints what its
 * text deltas (kept per event id in `streamed`) did not already print, so streamed text is never printed twice.
 */
export function describeEvent(
  event: SessionEvent,
  streamed: ReadonlyMap<string, string>,
  options: DescribeOptions = {},
): string | null {
  switch (event.type) {
    case 'user.message':
      return options.userMessages ? `> ${textOf(event.content)}\n` : null;
    case 'agent.message': {
      const text = textOf(event.content);
      const printed = streamed.get(event.id) ?? '';
      return text.startsWith(printed) ? `${text.slice(printed.length)}\n` : `\n${text}\n`;
    }
    case 'agent.tool_use':
    case 'agent.mcp_tool_use':
    case 'agent.custom_tool_use':
      return `[${event.name}] ${toolInput(event.input, options.inputChars)}\n`;
    case 'agent.tool_result':
    case 'agent.mcp_tool_result': {
      const text = fold(textOf(event.content ?? []), options.foldResultLines);
      return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${event.is_error ? '[tool error]\n' : ''}`;
    }
    case 'user.interrupt':
      return options.userMessages ? '[interrupted by the user]\n' : null;
    case 'session.error':
      return `[error] ${event.error.type}: ${event.error.message} (${event.error.retry_status.type})\n`;
    case 'session.status_rescheduled':
      return '[rescheduled: retrying the model call]\n';
    case 'session.status_idle':
      return event.stop_reason.type === 'end_turn' ? null : `[idle: ${event.stop_reason.type}]\n`;
    case 'session.status_terminated':
      return '[session terminated]\n';
    default:
      return null;
  }
}

/** A tool call's input as one line of JSON, cut to `limit` characters when given. */
export function toolInput(input: unknown, limit?: number): string {
  const json = JSON.stringify(input) ?? '';
  return limit === undefined || json.length <= limit ? json : `${json.slice(0, Math.max(0, limit - 1))}…`;
}

/** The text of content blocks, joined (blocks without text, such as images, print nothing). */
function textOf(blocks: ReadonlyArray<object>): string {
  return blocks.map((block) => ('text' in block && typeof block.text === 'string' ? block.text : '')).join('');
}

/** The first `lines` lines of `text`, and a line saying how many more there were. */
function fold(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  const all = text.replace(/\n$/, '').split('\n');
  if (all.length <= lines) return text;
  return `${all.slice(0, lines).join('\n')}\n… ${all.length - lines} more lines\n`;
}
