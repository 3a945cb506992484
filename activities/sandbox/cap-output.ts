/**
 * The line that replaces the middle of a capped output, so the model knows that and how much was cut; `note` (for
 * example where the whole output is) is added to it.
 */
export function cutMarker(cutBytes: number, note?: string): string {
  return `\n[... ${cutBytes} bytes of output cut here${note ? `; ${note}` : ''} ...]\n`;
}

/**
 * Caps `output` at about `maxBytes` bytes of UTF-8 by keeping its head and its tail around a `cutMarker`, so both the
 * start of a command's output and its final lines (often the error) survive. `bytesAlreadyCut` counts bytes a
 * streaming collector already dropped from the middle of `output`; they are added to the marker's count. `note` goes
 * into the marker when there is a cut.
 */
export function capOutput(output: Buffer | string, maxBytes: number, bytesAlreadyCut = 0, note?: string): string {
  const bytes = typeof output === 'string' ? Buffer.from(output, 'utf8') : output;
  if (bytes.length <= maxBytes && bytesAlreadyCut === 0) return bytes.toString('utf8');
  const markerBytes = Buffer.byteLength(cutMarker(bytes.length + bytesAlreadyCut, note));
  const keptBytes = Math.max(0, Math.min(bytes.length, maxBytes - markerBytes));
  const headEnd = backToCharacterStart(bytes, Math.ceil(keptBytes / 2));
  const tailStart = forwardToCharacterStart(bytes, bytes.length - Math.floor(keptBytes / 2));
  const cutBytes = tailStart - headEnd + bytesAlreadyCut;
  const marker = cutMarker(cutBytes, note);
  return bytes.subarray(0, headEnd).toString('utf8') + marker + bytes.subarray(tailStart).toString('utf8');
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

function backToCharacterStart(bytes: Buffer, index: number): number {
  let position = index;
  while (position > 0 && isContinuationByte(bytes[position])) position--;
  return position;
}

function forwardToCharacterStart(bytes: Buffer, index: number): number {
  let position = index;
  while (position < bytes.length && isContinuationByte(bytes[position])) position++;
  return position;
}
