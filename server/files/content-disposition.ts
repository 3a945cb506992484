/**
 * A `Content-Disposition: attachment` value naming `filename` (RFC 6266): a plain-ASCII `filename` for old clients and
 * the exact name, percent-encoded as UTF-8, in `filename*`.
 */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
