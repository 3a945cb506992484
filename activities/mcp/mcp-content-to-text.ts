import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/sdk/types.js';

import { capOutput } from '../sandbox/cap-output';

/** A text block of a `CallMcpToolResult`. */
export interface McpTextBlock {
  type: 'text';
  text: string;
}

/**
 * The text the model sees for one MCP content block: text as is, an embedded resource's text (or its URI when it is
 * binary), and a one-line summary for what the model cannot read here (images, audio, links).
 */
export function mcpContentBlockToText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
      return `[image: ${block.mimeType}]`;
    case 'audio':
      return `[audio: ${block.mimeType}]`;
    case 'resource_link':
      return `[resource link: ${block.name} ${block.uri}]`;
    case 'resource':
      if ('text' in block.resource) return block.resource.text;
      return `[resource: ${block.resource.uri}${block.resource.mimeType === undefined ? '' : ` (${block.resource.mimeType})`}]`;
    default:
      return `[${(block as { type: string }).type} content]`;
  }
}

/**
 * Maps a `tools/call` result to text blocks, capped at `maxBytes` of UTF-8 in total: above it, the blocks are joined
 * and the head and tail kept around a marker that says how much was cut, so the result always fits in a Temporal
 * payload. A result with only `structuredContent` becomes that JSON.
 */
export function mcpResultToTextBlocks(result: CallToolResult, maxBytes: number): McpTextBlock[] {
  const texts = result.content.map(mcpContentBlockToText);
  if (texts.length === 0 && result.structuredContent !== undefined)
    texts.push(JSON.stringify(result.structuredContent));
  const totalBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
  if (totalBytes <= maxBytes) return texts.map((text) => ({ type: 'text', text }));
  return [{ type: 'text', text: capOutput(texts.join('\n'), maxBytes) }];
}
