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
  const lastComponent = (partFilename ?? '').split(/[\\/]/).pop() ?? '';
  const base = [...lastComponent].filter((character) => !isControlCharacter(character)).join('');
  if (base.trim() !== '') return base;
  const essence = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return `unnamed${EXTENSIONS[essence] ?? ''}`;
}

function isControlCharacter(character: string): boolean {
  const code = character.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}
