const MAX_SUMMARY_LENGTH = 80;

/**
 * The one-line label of a tool call in the Temporal UI (`bash: ls -la`, `read: src/app.ts`), so the timeline of
 * Activities reads like the session.
 */
export function describeToolCall(name: string, input: Record<string, unknown>): string {
  const subject = input['command'] ?? input['file_path'] ?? input['pattern'] ?? '';
  const text = `${name}: ${typeof subject === 'string' ? subject : JSON.stringify(subject)}`
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : text;
}
