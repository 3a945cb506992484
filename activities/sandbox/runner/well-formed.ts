/**
 * The string with each lone surrogate replaced by U+FFFD, as it reads after a trip through UTF-8: the text a command
 * got through `docker exec` before, so the runner (whose Python would reject a lone surrogate) gets the same.
 */
export function wellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
