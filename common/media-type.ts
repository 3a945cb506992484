/** The image media types the Messages API takes. */
export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** An image media type the Messages API takes. */
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

/** The media type of a document Keel can pass to the model: a PDF (base64) or plain text. */
export type DocumentMediaType = 'application/pdf' | 'text/plain';

/**
 * The image type of `bytes` by their signature (PNG, JPEG, GIF, WebP), or `null`: an uploaded file's stated type is
 * the uploader's word, its first bytes are what the model will decode.
 */
export function sniffImageMediaType(bytes: Uint8Array): ImageMediaType | null {
  const starts = (...signature: number[]): boolean => signature.every((byte, index) => bytes[index] === byte);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && ascii(bytes, 8, 4) === 'WEBP') return 'image/webp';
  return null;
}

/**
 * The document type of `bytes` (a file's content or its first bytes): a PDF by its signature, plain text when they
 * are valid UTF-8 without NULs (a character cut at the end is allowed), or `null`.
 */
export function sniffDocumentMediaType(bytes: Uint8Array): DocumentMediaType | null {
  if (ascii(bytes, 0, 5) === '%PDF-') return 'application/pdf';
  if (bytes.includes(0)) return null;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return 'text/plain';
  } catch {
    return null;
  }
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}
