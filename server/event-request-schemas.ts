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

/** A user event Keel accepts: `user.message` (text content) or `user.interrupt`. */
export const userEvent = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('user.message'),
        content: z.array(textBlock).min(1, 'content must not be empty').max(100),
      })
      .strict(),
    z.object({ type: z.literal('user.interrupt') }).strict(),
  ],
  { error: 'unsupported event type: Keel accepts user.message and user.interrupt' },
);

/** The body of `POST /v1/sessions/{id}/events`. */
export const sendEventsBody = z
  .object({ events: z.array(userEvent).min(1, 'events must not be empty').max(50) })
  .strict();
