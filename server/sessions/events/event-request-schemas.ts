import { z } from 'zod';
import { IMAGE_MEDIA_TYPES } from '../../../common/media-type';
import { MAX_MAX_ITERATIONS, MAX_RUBRIC_CHARS } from '../../../common/outcome';

const MAX_TEXT_LENGTH = 200_000;

/**
 * The most base64 and plain-text document data one `user.message` may carry inline, in characters: it travels as a
 * Signal payload and stays in the session's log. Larger images and documents go by reference: upload them with the
 * Files API and send a `file` source.
 */
export const MAX_INLINE_MEDIA_CHARS = 5 * 1024 * 1024;

/** A text block of a user message: trimmed text must not be empty. */
export const textBlock = z
  .object({
    type: z.literal('text'),
    text: z
      .string()
      .trim()
      .min(1, 'text must not be empty')
      .max(MAX_TEXT_LENGTH, `text is over ${MAX_TEXT_LENGTH} characters`),
  })
  .strict();

/**
 * The text of one event, all blocks together, at most `MAX_TEXT_LENGTH` characters: an event goes into Temporal as a
 * Signal or Update payload (2 MB at most) and stays in the conversation every later model call carries.
 */
const textContent = z
  .array(textBlock)
  .max(100)
  .refine((blocks) => blocks.reduce((total, block) => total + block.text.length, 0) <= MAX_TEXT_LENGTH, {
    message: `the text blocks together are over ${MAX_TEXT_LENGTH} characters`,
  });

const base64Data = z
  .string()
  .min(1, 'data must not be empty')
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'data must be base64 (A-Z, a-z, 0-9, +, / and = padding)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http or https URL' });
const fileId = z.string().regex(/^file_[0-9A-Za-z]{8,64}$/, 'expected a file id (file_…)');
const urlSource = z.object({ type: z.literal('url'), url: httpUrl }).strict();
const fileSource = z.object({ type: z.literal('file'), file_id: fileId }).strict();

/** An image block of a user message: base64 (PNG, JPEG, GIF or WebP), URL or uploaded-file source. */
export const imageBlock = z
  .object({
    type: z.literal('image'),
    source: z.discriminatedUnion(
      'type',
      [
        z
          .object({
            type: z.literal('base64'),
            media_type: z.enum(IMAGE_MEDIA_TYPES, { error: `expected one of ${IMAGE_MEDIA_TYPES.join(', ')}` }),
            data: base64Data,
          })
          .strict(),
        urlSource,
        fileSource,
      ],
      { error: 'expected an image source of type base64, url or file' },
    ),
  })
  .strict();

/** A document block of a user message: base64 PDF, plain text, URL or uploaded-file source, with a title and context. */
export const documentBlock = z
  .object({
    type: z.literal('document'),
    source: z.discriminatedUnion(
      'type',
      [
        z
          .object({
            type: z.literal('base64'),
            media_type: z.literal('application/pdf', { error: 'a base64 document must be application/pdf' }),
            data: base64Data,
          })
          .strict(),
        z
          .object({
            type: z.literal('text'),
            media_type: z.literal('text/plain', { error: 'a text document must be text/plain' }),
            data: z.string().min(1, 'data must not be empty'),
          })
          .strict(),
        urlSource,
        fileSource,
      ],
      { error: 'expected a document source of type base64, text, url or file' },
    ),
    title: z.string().max(500).nullable().optional(),
    context: z.string().max(10_000).nullable().optional(),
  })
  .strict();

/** Characters of inline data (base64, or a text document) that `block` carries. */
function inlineChars(block: { type: string; source?: { type: string; data?: string } }): number {
  return block.source?.data?.length ?? 0;
}

const userContent = z
  .array(
    z.discriminatedUnion('type', [textBlock, imageBlock, documentBlock], {
      error:
        'expected a content block of type text, image or document (a redacted block stands for content the model ' +
        'withheld: a user.message cannot send one)',
    }),
  )
  .min(1, 'content must not be empty')
  .max(100)
  .refine(
    (blocks) =>
      blocks.reduce((total, block) => total + (block.type === 'text' ? block.text.length : 0), 0) <= MAX_TEXT_LENGTH,
    { message: `the text blocks together are over ${MAX_TEXT_LENGTH} characters` },
  )
  .refine((blocks) => blocks.reduce((total, block) => total + inlineChars(block), 0) <= MAX_INLINE_MEDIA_CHARS, {
    message:
      `the inline image and document data together is over ${MAX_INLINE_MEDIA_CHARS} characters: upload large ` +
      'media with the Files API and send a file source',
  });

/** The most text one `user.tool_result` may carry, all blocks together (a tool's output, kept as it is). */
const MAX_TOOL_RESULT_TEXT = 500_000;

/** A text block of a tool result: kept verbatim (whitespace is output too). */
const toolResultText = z.object({ type: z.literal('text'), text: z.string() }).strict();

/** A search result block of a tool result (`BetaManagedAgentsSearchResultBlock`). */
const searchResultBlock = z
  .object({
    type: z.literal('search_result'),
    source: z.string(),
    title: z.string(),
    content: z.array(toolResultText).max(100),
    citations: z.object({ enabled: z.boolean() }).strict().default({ enabled: false }),
  })
  .strict();

/** The content of a `user.tool_result`: text, image, document and search result blocks. */
const toolResultContent = z
  .array(
    z.discriminatedUnion('type', [toolResultText, imageBlock, documentBlock, searchResultBlock], {
      error: 'expected a content block of type text, image, document or search_result',
    }),
  )
  .max(100)
  .refine(
    (blocks) =>
      blocks.reduce((total, block) => total + (block.type === 'text' ? block.text.length : 0), 0) <=
      MAX_TOOL_RESULT_TEXT,
    { message: `the text blocks together are over ${MAX_TOOL_RESULT_TEXT} characters` },
  );

const userMessage = z
  .object({
    type: z.literal('user.message'),
    content: userContent,
  })
  .strict();

/** A `system.message`: text-only content for the system context, sent with the `user.message` it follows. */
const systemMessage = z
  .object({
    type: z.literal('system.message'),
    content: textContent.refine((blocks) => blocks.length > 0, 'content must not be empty'),
  })
  .strict();
const userInterrupt = z.object({ type: z.literal('user.interrupt') }).strict();

/**
 * A `user.interrupt` sent to a running session. `session_thread_id` names the thread to interrupt: the primary thread
 * (taken as none: every thread is interrupted) or one of the session's child threads; the route answers 404 for any
 * other.
 */
const threadUserInterrupt = z
  .object({ type: z.literal('user.interrupt'), session_thread_id: z.string().max(128).nullable().optional() })
  .strict();

/**
 * A `user.define_outcome`: the task (`description`, the agent's input), the rubric the grader scores it against (text,
 * or an uploaded text file) and the evaluation budget (`max_iterations`, 1 to 20, default 3).
 */
const userDefineOutcome = z
  .object({
    type: z.literal('user.define_outcome'),
    description: z
      .string({ error: 'description is required: what the agent should produce' })
      .trim()
      .min(1, 'description must not be empty')
      .max(MAX_TEXT_LENGTH, `description is over ${MAX_TEXT_LENGTH} characters`),
    rubric: z.discriminatedUnion(
      'type',
      [
        z
          .object({
            type: z.literal('text'),
            content: z
              .string()
              .trim()
              .min(1, 'rubric content must not be empty')
              .max(MAX_RUBRIC_CHARS, `rubric content is over ${MAX_RUBRIC_CHARS} characters`),
          })
          .strict(),
        z.object({ type: z.literal('file'), file_id: fileId }).strict(),
      ],
      { error: 'rubric is required: {type: "text", content} or {type: "file", file_id}' },
    ),
    max_iterations: z
      .number({ error: 'max_iterations must be an integer from 1 to 20' })
      .int('max_iterations must be an integer from 1 to 20')
      .min(1, 'max_iterations must be at least 1')
      .max(MAX_MAX_ITERATIONS, `max_iterations must be at most ${MAX_MAX_ITERATIONS}`)
      .nullable()
      .optional(),
  })
  .strict();
const eventId = z.string().regex(/^sevt_[A-Za-z0-9]+$/, 'expected an event id (sevt_…)');

/** The events a session can start with: `user.message`, `user.define_outcome` or `user.interrupt`. */
export const initialUserEvent = z.discriminatedUnion('type', [userMessage, userDefineOutcome, userInterrupt], {
  error: 'unsupported event type: a session starts with user.message, user.define_outcome or user.interrupt events',
});

/**
 * A user event Keel accepts on a running session: `user.message` (text, image and document content),
 * `user.interrupt`, `user.tool_confirmation`, `user.custom_tool_result` (text content), `user.tool_result` (a
 * self-hosted environment's worker's result of a built-in tool call) and `system.message`.
 */
export const userEvent = z.discriminatedUnion(
  'type',
  [
    userMessage,
    threadUserInterrupt,
    userDefineOutcome,
    systemMessage,
    z
      .object({
        type: z.literal('user.tool_confirmation'),
        tool_use_id: eventId,
        result: z.enum(['allow', 'deny'], { error: 'expected allow or deny' }),
        deny_message: z.string().max(10_000).nullable().optional(),
      })
      .strict()
      .refine((event) => event.result === 'deny' || event.deny_message === undefined || event.deny_message === null, {
        message: 'deny_message is only allowed when result is deny',
        path: ['deny_message'],
      }),
    z
      .object({
        type: z.literal('user.custom_tool_result'),
        custom_tool_use_id: eventId,
        content: textContent.optional(),
        is_error: z.boolean().nullable().optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('user.tool_result'),
        tool_use_id: eventId,
        content: toolResultContent.optional(),
        is_error: z.boolean().nullable().optional(),
      })
      .strict(),
  ],
  {
    error:
      'unsupported event type: Keel accepts user.message, user.interrupt, user.define_outcome, ' +
      'user.tool_confirmation, user.custom_tool_result, user.tool_result and system.message',
  },
);

/** The events a `system.message` may accompany (Keel does not take one with a worker's `user.tool_result` yet). */
const ACCOMPANIED = new Set(['user.message', 'user.custom_tool_result']);

/**
 * Adds an issue for each hosted rule a list of user events breaks: a `system.message` comes at most once, as the last
 * event, right after the `user.message` or `user.custom_tool_result` it accompanies; a session works on one outcome at
 * a time, so at most one `user.define_outcome`. `path` leads to the list in the body.
 */
export function refineEventOrder(
  events: readonly { type: string }[],
  context: z.RefinementCtx,
  path: (string | number)[],
): void {
  events.forEach((event, index) => {
    if (event.type !== 'system.message') return;
    const problem =
      index !== events.length - 1
        ? 'a system.message must be the last event of the request (at most one per request)'
        : !ACCOMPANIED.has(events[index - 1]?.type ?? '')
          ? 'a system.message must immediately follow the user.message or user.custom_tool_result it accompanies'
          : null;
    if (problem !== null) context.addIssue({ code: 'custom', path: [...path, index], message: problem });
  });
  const outcomes = events.flatMap((event, index) => (event.type === 'user.define_outcome' ? [index] : []));
  if (outcomes.length > 1) {
    context.addIssue({
      code: 'custom',
      path: [...path, outcomes[1] ?? 0],
      message: 'a session works on one outcome at a time: send at most one user.define_outcome per request',
    });
  }
}

/** The body of `POST /v1/sessions/{id}/events` (`refineEventOrder`'s rules apply). */
export const sendEventsBody = z
  .object({ events: z.array(userEvent).min(1, 'events must not be empty').max(50) })
  .strict()
  .superRefine((body, context) => refineEventOrder(body.events, context, ['events']));
