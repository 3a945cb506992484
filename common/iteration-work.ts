import type { LoggedEvent, SessionEvent } from './events';

/**
 * What an outcome's grader reads of the agent's work in one iteration, as pure functions of the iteration's events.
 * The Workflow builds the part its own run logged; the `gradeOutcome` Activity reads the part earlier runs archived
 * (and the tool outputs kept in the blob store) and joins the two, so the grader sees the same account whether or
 * not the session continued-as-new during the iteration.
 */

/** How much of the agent's work the grader reads: characters of its text and of the tool account. */
export const GRADER_READS = { messageChars: 20_000, toolLineChars: 600, toolLines: 60 } as const;

/** What the grader reads of an iteration: the agent's messages and one line per tool call and result. */
export interface IterationWork {
  /** The agent's text, its last message last, the newest kept within `GRADER_READS.messageChars`. */
  agentMessages: string[];
  /** One line per tool call and result, each shortened; the first and last lines kept when there are many. */
  toolAccount: string[];
}

/** A tool result whose text is in the blob store (`LoggedEvent.contentKey`) and not known where the line is made. */
export interface StoredResultLine {
  contentKey: string;
  isError: boolean;
}

/** The texts an iteration's work is made of, before the grader's caps on the whole. */
export interface WorkItems {
  messages: string[];
  lines: Array<string | StoredResultLine>;
}

/** A `toolAccount` line that stands for a stored tool result: the Activity puts the result's text there. */
export interface StoredResultRef extends StoredResultLine {
  /** Index of the line in `toolAccount`. */
  index: number;
}

/** The line of a stored output whose text is not at hand. */
export const STORED_OUTPUT_PLACEHOLDER = '(output stored)';

/**
 * What the agent produced in one iteration, read from the events it logged: its messages (the newest kept when they
 * are long) and one line per tool call and per result, shortened. Stored tool outputs show as `(output stored)`.
 */
export function iterationWork(events: readonly SessionEvent[]): IterationWork {
  return capWork(workItems(events.map((event, position) => ({ position, event })))).work;
}

/**
 * The messages and tool lines of `entries`. A result whose text is in the blob store takes it from `texts` (by its
 * `contentKey`) when it is there, and is a `StoredResultLine` otherwise.
 */
export function workItems(entries: readonly LoggedEvent[], texts?: ReadonlyMap<string, string>): WorkItems {
  const messages: string[] = [];
  const lines: WorkItems['lines'] = [];
  for (const { event, contentKey } of entries) {
    if (event.type === 'agent.message') {
      messages.push(event.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n'));
    } else if (event.type === 'agent.tool_use' || event.type === 'agent.custom_tool_use') {
      lines.push(`call ${event.name} ${JSON.stringify(event.input)}`);
    } else if (event.type === 'agent.mcp_tool_use') {
      lines.push(`call ${event.mcp_server_name}/${event.name} ${JSON.stringify(event.input)}`);
    } else if (event.type === 'agent.tool_result' || event.type === 'agent.mcp_tool_result') {
      const isError = event.is_error === true;
      const stored = contentKey === undefined ? undefined : texts?.get(contentKey);
      if (contentKey !== undefined && stored === undefined) {
        lines.push({ contentKey, isError });
        continue;
      }
      const text = (event.content ?? []).map((block) => (block.type === 'text' ? block.text : `[${block.type}]`));
      lines.push(resultLine(isError, stored ?? text.join('\n')));
    }
  }
  return { messages, lines };
}

/** A tool result's account line: `result: <output>` or `error: <output>`, shortened. */
export function resultLine(isError: boolean, output: string): string {
  return shorten(`${isError ? 'error' : 'result'}: ${output || STORED_OUTPUT_PLACEHOLDER}`);
}

/**
 * `items` within the grader's caps, with the stored results left in its tool account (as placeholders, listed in
 * `storedResults` by line) and `toolLineCount`, the number of lines before the caps, which `joinWork` needs.
 */
export function capWork(items: WorkItems): {
  work: IterationWork;
  storedResults: StoredResultRef[];
  toolLineCount: number;
} {
  const storedResults: StoredResultRef[] = [];
  const kept = keepEnds(items.lines);
  const toolAccount = kept.map((line, index) => {
    if (typeof line === 'string') return shorten(line);
    storedResults.push({ index, ...line });
    return resultLine(line.isError, '');
  });
  return {
    work: { agentMessages: newestWithin(items.messages, GRADER_READS.messageChars), toolAccount },
    storedResults,
    toolLineCount: items.lines.length,
  };
}

/**
 * The work of a whole iteration from its `earlier` part's items and the `later` part as `capWork` made it (with the
 * line count it returned): the same as `capWork` of both parts' items together.
 */
export function joinWork(earlier: WorkItems, later: IterationWork, laterLineCount: number): IterationWork {
  const agentMessages = newestWithin([...earlier.messages, ...later.agentMessages], GRADER_READS.messageChars);
  const earlierLines = earlier.lines.map((line) =>
    typeof line === 'string' ? shorten(line) : resultLine(line.isError, ''),
  );
  if (laterLineCount <= GRADER_READS.toolLines) {
    return {
      agentMessages,
      toolAccount: capWork({ messages: [], lines: [...earlierLines, ...later.toolAccount] }).work.toolAccount,
    };
  }
  // The later part alone had more lines than are kept: its account is its first half, a marker, its last half.
  const half = GRADER_READS.toolLines / 2;
  const head = [...earlierLines, ...later.toolAccount.slice(0, half)].slice(0, half);
  const leftOut = earlierLines.length + laterLineCount - GRADER_READS.toolLines;
  return { agentMessages, toolAccount: [...head, leftOutLine(leftOut), ...later.toolAccount.slice(-half)] };
}

/** The newest `messages` that fit in `chars` characters together, oldest first; the last one shortened to fit. */
function newestWithin(messages: string[], chars: number): string[] {
  const kept: string[] = [];
  let left = chars;
  for (let index = messages.length - 1; index >= 0 && left > 0; index -= 1) {
    const message = messages[index] ?? '';
    kept.unshift(message.length <= left ? message : `…${message.slice(message.length - left)}`);
    left -= message.length;
  }
  return kept;
}

/** The lines, or their first and last halves of `GRADER_READS.toolLines` with a marker between when there are more. */
function keepEnds<Line>(lines: Line[]): Array<Line | string> {
  if (lines.length <= GRADER_READS.toolLines) return lines;
  const half = GRADER_READS.toolLines / 2;
  return [...lines.slice(0, half), leftOutLine(lines.length - GRADER_READS.toolLines), ...lines.slice(-half)];
}

function leftOutLine(count: number): string {
  return `(${count} lines left out)`;
}

/** A line within `GRADER_READS.toolLineChars` (a shortened line is left as it is when shortened again). */
function shorten(line: string): string {
  return line.length <= GRADER_READS.toolLineChars ? line : `${line.slice(0, GRADER_READS.toolLineChars)}…`;
}
