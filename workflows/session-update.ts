import type { UpdateSessionInput } from '../common/session';

/** A session's title and metadata, as an update finds and leaves them. */
export interface SessionDetails {
  title: string | null;
  metadata: Record<string, string>;
}

/** What an update does: the details after it, and the `session.updated` fields, `null` when nothing changed. */
export interface SessionUpdateOutcome {
  details: SessionDetails;
  /** The fields of `session.updated`: only what changed, metadata as the whole bag (left out when emptied). */
  changed: { title?: string | null; metadata?: Record<string, string> } | null;
}

/**
 * Applies an update to a session's details. A metadata value of `null` removes its key. The hosted API emits
 * `session.updated` only when at least one field changed, with only the changed fields: the title, and the full
 * metadata bag when it is not empty (an update that clears metadata changes it, but carries no bag).
 */
export function applySessionUpdate(current: SessionDetails, update: UpdateSessionInput): SessionUpdateOutcome {
  const title = update.title === undefined ? current.title : update.title;
  const metadata = { ...current.metadata };
  for (const [key, value] of Object.entries(update.metadata ?? {})) {
    if (value === null) delete metadata[key];
    else metadata[key] = value;
  }
  const titleChanged = title !== current.title;
  const metadataChanged = !sameEntries(metadata, current.metadata);
  if (!titleChanged && !metadataChanged) return { details: current, changed: null };
  return {
    details: { title, metadata },
    changed: {
      ...(titleChanged ? { title } : {}),
      ...(metadataChanged && Object.keys(metadata).length > 0 ? { metadata } : {}),
    },
  };
}

function sameEntries(left: Record<string, string>, right: Record<string, string>): boolean {
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => right[key] === left[key]);
}
