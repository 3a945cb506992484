/** The HTTP status of a Docker Engine API error raised by `dockerode`, or `undefined` for any other error. */
export function dockerStatusCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  return typeof error.statusCode === 'number' ? error.statusCode : undefined;
}
