import { z } from 'zod';

const MAX_TEXT_LENGTH = 200_000;

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

const userMessage = z
  .object({
    type: z.literal('user.message'),
    content: textContent.refine((blocks) => blocks.length > 0, 'content must not be empty'),
  })
  .strict();
const userInterrupt = z.object({ type: z.literal('user.interrupt') }).strict();
const eventId = z.string().regex(/^sevt_[A-Za-z0-9]+$/, 'expected an event id (sevt_…)');

/** The events a session can start with: `user.message` (text content) or `user.interrupt`. */
export const initialUserEvent = z.discriminatedUnion('type', [userMessage, userInterrupt], {
  error: 'unsupported event type: a session starts with user.message or user.interrupt events',
});

/**
 * A user event Keel accepts on a running session: `user.message` (text content), `user.interrupt`,
 * `user.tool_confirmation` and `user.custom_tool_result` (text content).
 */
export const userEvent = z.discriminatedUnion(
  'type',
  [
    userMessage,
    userInterrupt,
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
  ],
  {
    error:
      'unsupported event type: Keel accepts user.message, user.interrupt, user.tool_confirmation and user.custom_tool_result',
  },
);

/** The body of `POST /v1/sessions/{id}/events`. */
export const sendEventsBody = z
  .object({ events: z.array(userEvent).min(1, 'events must not be empty').max(50) })
  .strict();
