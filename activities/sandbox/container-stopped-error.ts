/**
 * Raised inside the sandbox code when the container is gone or stopped; `execute` turns it into a tool error the model
 * sees, so it never leaves an Activity.
 */
export class ContainerStoppedError extends Error {
  /** What Docker says about the container, e.g. `exited, exit code 137`. */
  readonly detail: string;

  constructor(detail: string) {
    super(`The sandbox container stopped (${detail})`);
    this.name = 'ContainerStoppedError';
    this.detail = detail;
  }
}
