/** The tool error the model sees when the container stopped under a call; it says the next call recovers. */
export function sandboxStoppedOutput(detail: string): string {
  return (
    `The sandbox container stopped while running this command (${detail}); ` +
    'the next tool call starts a new container with the same /workspace.'
  );
}
