import type {
  BetaManagedAgentsSessionThreadStats,
  BetaManagedAgentsSessionThreadUsage,
} from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
/** What one field of a response object may be: a JSON kind, `absent` (an optional field left out), or an exact value. */
export type FieldKind =
  | 'string'
  | 'number'
  | 'boolean'
  | 'object'
  | 'array'
  | 'null'
  | 'absent'
  | { id: string }
  | { literal: string | number | boolean };

/**
 * The run-time shape of an SDK type: every key of the type (optional ones too, so a field the SDK adds fails to
 * compile here until the shape says what Keel sends for it) with the kinds its value may take.
 */
export type Shape<T> = { [K in keyof Required<T>]-?: FieldKind | FieldKind[] };

/**
 * The problems of `value` against `shape`, each naming the field (`[]` when it conforms); a field the SDK type does
 * not have is a problem unless it is one of Keel's documented `extensions`.
 */
export function shapeProblems<T>(value: unknown, shape: Shape<T>, name: string, extensions: string[] = []): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${name}: not an object`];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  const fields = shape as Record<string, FieldKind | FieldKind[]>;
  for (const [field, expected] of Object.entries(fields)) {
    const kinds = Array.isArray(expected) ? expected : [expected];
    const actual = record[field];
    if (!kinds.some((kind) => matches(actual, field in record, kind))) {
      problems.push(`${name}.${field}: ${JSON.stringify(actual)} is not ${JSON.stringify(kinds)}`);
    }
  }
  for (const field of Object.keys(record)) {
    if (!(field in fields) && !extensions.includes(field))
      problems.push(`${name}.${field}: not a field of the SDK type`);
  }
  return problems;
}

function matches(value: unknown, present: boolean, kind: FieldKind): boolean {
  if (kind === 'absent') return !present;
  if (!present) return false;
  if (typeof kind === 'object') {
    if ('literal' in kind) return value === kind.literal;
    return typeof value === 'string' && value.startsWith(kind.id) && value.length > kind.id.length + 7;
  }
  switch (kind) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === kind;
  }
}

/** A session thread's `stats` as the SDK types them (Keel reports no `startup_seconds`). */
export const threadStatsShape: Shape<BetaManagedAgentsSessionThreadStats> = {
  active_seconds: 'number',
  duration_seconds: 'number',
  startup_seconds: 'absent',
};

/** A session thread's `usage` as the SDK types it. */
export const threadUsageShape: Shape<BetaManagedAgentsSessionThreadUsage> = {
  input_tokens: 'number',
  output_tokens: 'number',
  cache_read_input_tokens: 'number',
  cache_creation: 'object',
  active_seconds: 'number',
  list_cost: ['absent', 'null', 'object'],
  server_tool_use: ['absent', 'null', 'object'],
};
