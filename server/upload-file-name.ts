/** Extensions of common MIME types, for naming a file uploaded without a name as the hosted API does. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/json': '.json',
  'application/pdf': '.pdf',
  'application/zip': '.zip',
  'image/gif': '.gif',
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'text/csv': '.csv',
  'text/html': '.html',
  'text/markdown': '.md',
  'text/plain': '.txt',
};

/** The longest filename kept, in characters. */
export const MAX_FILENAME_LENGTH = 255;

/**
 * The filename stored for an uploaded part, as the SDK documents it: only the final path component of the part's
 * `filename` is kept, and an absent or empty one becomes `unnamed` plus the extension of `mimeType` when known.
 * Control characters are dropped so the name can go back out in a `Content-Disposition` header.
 */
export function uploadFileName(partFilename: string | undefined, mimeType: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed.
  const base = (partFilename ?? '').split(/[\\/]/).pop()?.replace(/[\u0000-\u001f\u007f]/g, '') ?? '';
  if (base.trim() !== '') return base;
  const essence = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return `unnamed${EXTENSIONS[essence] ?? ''}`;
}
