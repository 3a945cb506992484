import { BLOB_PREFIXES } from '../../common/blob-store';
import type { BlobStore } from '../../common/blob-store';
import type {
  ConversationAddition,
  ConversationRef,
  ConversationRole,
  ConversationSegment,
  StoredBlock,
} from '../../common/conversation';
import type { MessageParam } from '../../common/model';
import { contentKey } from '../../storage/content-key';

/**
 * How many assembled conversations a worker keeps in memory, most recently used first: enough for every session a
 * busy worker runs at once (each step adds two heads), so the next step of a session never walks its chain again.
 */
const HEADS_CACHED = 1024;
/**
 * And at most this many characters of conversation in them, counting each head whole although heads of one session
 * share their messages (so the real memory is far less): about 200 heads of sessions near a 100,000-token window.
 */
const HEAD_CHARS_CACHED = 64 * 1024 * 1024;
/** Tool results longer than this are kept by reference when messages are stored whole. */
const LONG_TEXT_CHARS = 512;
/** How many characters of tool output text a worker keeps in memory. */
const OUTPUT_CHARS_CACHED = 4 * 1024 * 1024;

/**
 * The conversations the model sees, stored in the blob store as parent-linked chains of segments (one message
 * fragment each, content-addressed): appending writes one small segment, never the conversation again. A worker keeps
 * the assembled messages of recent heads in memory, so the next step of a session costs one segment write and no
 * read; a cold worker walks the chain once (compaction keeps chains short).
 */
export class ConversationStore {
  private readonly assembled = new AssembledHeads();
  private readonly outputs = new Map<string, string>();
  private outputChars = 0;

  constructor(private readonly blobs: BlobStore) {}

  /** Stores a text once (a tool's output unless `prefix` says otherwise) and returns its key. */
  async storeText(text: string, prefix: string = BLOB_PREFIXES.toolOutput): Promise<string> {
    const body = Buffer.from(text, 'utf8');
    const key = contentKey(prefix, body);
    if (this.outputs.has(key)) return key;
    await this.blobs.put(key, body);
    this.rememberOutput(key, text);
    return key;
  }

  /** The text stored under `key` by `storeText`. */
  async readText(key: string): Promise<string> {
    const cached = this.outputs.get(key);
    if (cached !== undefined) return cached;
    const body = await this.blobs.get(key);
    if (body === null) throw new Error(`The conversation store has no tool output ${key}.`);
    const text = Buffer.from(body).toString('utf8');
    this.rememberOutput(key, text);
    return text;
  }

  /** Keeps an output text in memory, the least recently stored ones leaving first past `OUTPUT_CHARS_CACHED`. */
  private rememberOutput(key: string, text: string): void {
    if (this.outputs.has(key)) return;
    this.outputs.set(key, text);
    this.outputChars += text.length;
    for (const [oldKey, oldText] of this.outputs) {
      if (this.outputChars <= OUTPUT_CHARS_CACHED) break;
      this.outputs.delete(oldKey);
      this.outputChars -= oldText.length;
    }
  }

  /** Appends one message fragment after `ref` and returns the new head. */
  async append(ref: ConversationRef, role: ConversationRole, blocks: StoredBlock[]): Promise<ConversationRef> {
    const segment: ConversationSegment = { parent: ref.head, role, blocks };
    const body = Buffer.from(JSON.stringify(segment), 'utf8');
    const key = contentKey(BLOB_PREFIXES.conversation, body);
    await this.blobs.put(key, body);
    const before = ref.head === null ? EMPTY_HEAD : this.assembled.get(ref.head);
    if (before !== undefined) this.assembled.remember(key, await this.extended(before, role, blocks));
    return { head: key };
  }

  /**
   * Appends whole messages (a new chain's content, such as the recent part a compaction keeps) and returns the new
   * head. A long tool result is stored by reference to its text, which is content-addressed: an output the chain held
   * before is not written again.
   */
  async appendMessages(ref: ConversationRef, messages: MessageParam[]): Promise<ConversationRef> {
    let head = ref;
    for (const message of messages) {
      const content =
        typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
      const blocks: StoredBlock[] = [];
      for (const block of content) blocks.push(await this.storedBlock(block as StoredBlock));
      head = await this.append(head, message.role, blocks);
    }
    return head;
  }

  private async storedBlock(block: StoredBlock): Promise<StoredBlock> {
    if (block.type !== 'tool_result' || !('content' in block) || typeof block.content !== 'string') return block;
    if (block.content.length <= LONG_TEXT_CHARS) return block;
    const contentKey = await this.storeText(block.content);
    return { type: 'tool_result', tool_use_id: block.tool_use_id, is_error: block.is_error, contentKey };
  }

  /**
   * Stores the Workflow's additions, one fragment per run of additions with the same role (user content, then a
   * system message when one came with it); the same ref when there are none.
   */
  async appendAdditions(ref: ConversationRef, additions: ConversationAddition[]): Promise<ConversationRef> {
    let head = ref;
    for (const fragment of additionFragments(additions)) head = await this.append(head, fragment.role, fragment.blocks);
    return head;
  }

  /** The messages of the conversation at `ref`, as the Messages API takes them (consecutive fragments merged). */
  async messages(ref: ConversationRef): Promise<MessageParam[]> {
    if (ref.head === null) return [];
    const cached = this.assembled.get(ref.head);
    if (cached !== undefined) {
      this.assembled.remember(ref.head, cached);
      return cached.messages;
    }
    const chain: ConversationSegment[] = [];
    let head = EMPTY_HEAD;
    for (let key: string | null = ref.head; key !== null;) {
      const known = this.assembled.get(key);
      if (known !== undefined) {
        head = known;
        break;
      }
      const segment = await this.segment(key);
      chain.push(segment);
      key = segment.parent;
    }
    for (const segment of chain.reverse()) head = await this.extended(head, segment.role, segment.blocks);
    this.assembled.remember(ref.head, head);
    return head.messages;
  }

  /** `head` with one more fragment, its blocks resolved, and its size grown by theirs. */
  private async extended(head: AssembledHead, role: ConversationRole, blocks: StoredBlock[]): Promise<AssembledHead> {
    const resolved = await this.resolve(blocks);
    return { messages: mergeFragment(head.messages, role, resolved), chars: head.chars + blocksChars(resolved) };
  }

  private async segment(key: string): Promise<ConversationSegment> {
    const body = await this.blobs.get(key);
    if (body === null) throw new Error(`The conversation store has no segment ${key}.`);
    return JSON.parse(Buffer.from(body).toString('utf8')) as ConversationSegment;
  }

  /** Turns stored blocks into Messages API blocks, reading tool outputs stored by reference. */
  private async resolve(blocks: StoredBlock[]): Promise<MessageParam['content'] & unknown[]> {
    const resolved: unknown[] = [];
    for (const block of blocks) {
      if (block.type === 'tool_result' && 'contentKey' in block) {
        resolved.push({
          type: 'tool_result',
          tool_use_id: block.tool_use_id,
          is_error: block.is_error,
          content: await this.readText(block.contentKey),
        });
      } else resolved.push(block);
    }
    return resolved as MessageParam['content'] & unknown[];
  }
}

/** The additions as fragments to store, in order: consecutive additions of one role make one fragment. */
export function additionFragments(
  additions: ConversationAddition[],
): Array<{ role: ConversationRole; blocks: StoredBlock[] }> {
  const fragments: Array<{ role: ConversationRole; blocks: StoredBlock[] }> = [];
  for (const addition of additions) {
    const role: ConversationRole = addition.kind === 'system_text' ? 'system' : 'user';
    const last = fragments.at(-1);
    if (last?.role === role) last.blocks.push(additionBlock(addition));
    else fragments.push({ role, blocks: [additionBlock(addition)] });
  }
  return fragments;
}

/** The stored block of one addition. */
export function additionBlock(addition: ConversationAddition): StoredBlock {
  switch (addition.kind) {
    case 'user_text':
    case 'system_text':
      return { type: 'text', text: addition.text };
    case 'user_media':
      return addition.block;
    case 'tool_result':
      return {
        type: 'tool_result',
        tool_use_id: addition.toolUseId,
        is_error: addition.isError,
        content: addition.text.length > 0 ? addition.text : '(no output)',
      };
    case 'tool_result_ref':
      return {
        type: 'tool_result',
        tool_use_id: addition.toolUseId,
        is_error: addition.isError,
        contentKey: addition.contentKey,
      };
  }
}

/**
 * `messages` with one more fragment: merged into the last message when it has the same role (roles alternate). A
 * `system` fragment makes a `role: "system"` message, which the Messages API takes mid-conversation on the models
 * that accept it.
 */
export function mergeFragment(
  messages: MessageParam[],
  role: ConversationRole,
  blocks: MessageParam['content'] & unknown[],
): MessageParam[] {
  const last = messages.at(-1);
  if (last !== undefined && last.role === role) {
    const before = typeof last.content === 'string' ? [{ type: 'text' as const, text: last.content }] : last.content;
    return [...messages.slice(0, -1), { role, content: [...before, ...blocks] } as MessageParam];
  }
  return [...messages, { role, content: blocks } as MessageParam];
}

/** An assembled conversation and its size in characters (text and JSON of its blocks). */
interface AssembledHead {
  messages: MessageParam[];
  chars: number;
}

const EMPTY_HEAD: AssembledHead = { messages: [], chars: 0 };

/** The assembled heads a worker keeps, least recently used leaving first past `HEADS_CACHED` or `HEAD_CHARS_CACHED`. */
class AssembledHeads {
  private readonly heads = new Map<string, AssembledHead>();
  private chars = 0;

  get(key: string): AssembledHead | undefined {
    return this.heads.get(key);
  }

  remember(key: string, head: AssembledHead): void {
    const before = this.heads.get(key);
    if (before !== undefined) {
      this.heads.delete(key);
      this.chars -= before.chars;
    }
    this.heads.set(key, head);
    this.chars += head.chars;
    for (const [oldKey, oldHead] of this.heads) {
      if (this.heads.size <= HEADS_CACHED && this.chars <= HEAD_CHARS_CACHED) break;
      if (oldKey === key) break;
      this.heads.delete(oldKey);
      this.chars -= oldHead.chars;
    }
  }
}

/** About how many characters `blocks` hold: their texts, or their JSON when they are not text. */
function blocksChars(blocks: unknown[]): number {
  let chars = 0;
  for (const block of blocks) {
    const { text, content } = block as { text?: unknown; content?: unknown };
    if (typeof text === 'string') chars += text.length;
    else if (typeof content === 'string') chars += content.length;
    else chars += JSON.stringify(block).length;
  }
  return chars;
}
