import type { z } from 'zod';
import { invalidField } from './api-error';

/** Parses `value` with `schema`, or throws a 400 that names the first offending field (`events[0].content`). */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, root: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = [root, ...(issue?.path ?? [])].reduce<string>(
    (text, part) =>
      typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`,
    '',
  );
  throw invalidField(field || root, issue?.message ?? 'invalid value');
}
