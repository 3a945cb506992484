/**
 * The tool error the model sees when the container stopped under a call: the call was interrupted and is not run again
 * (it may have done part of its work), and the next call recovers.
 */
export function sandboxStoppedOutput(detail: string): string {
  return (
    `The sandbox container stopped while running this command (${detail}), so it was interrupted and is not run ` +
    'again; the next tool call starts a new container with the same /workspace.'
  );
}
