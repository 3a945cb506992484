import type { ToolResultContentBlock } from '../common/session';

/**
 * The text the model gets for a self-hosted worker's `user.tool_result` content: text blocks as they are, a search
 * result's text blocks under its title, and a line naming each image or document (Keel passes tool results to the
 * model as text). An empty result reads `(no output)`, as the SDK's worker writes it.
 */
export function toolResultText(content: readonly ToolResultContentBlock[]): string {
  const parts = content.map((block) => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'search_result':
        return [`${block.title} (${block.source})`, ...block.content.map((part) => part.text)].join('\n');
      case 'image':
        return '[an image, which Keel does not pass to the model from a tool result]';
      case 'document':
        return '[a document, which Keel does not pass to the model from a tool result]';
    }
  });
  const text = parts.join('\n');
  return text === '' ? '(no output)' : text;
}
