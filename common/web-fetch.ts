import type { SandboxNetworking } from './sandbox';

/** Input of the `webFetch` Activity: the `web_fetch` tool, run in the worker (never in the sandbox). */
export interface WebFetchInput {
  sessionId: string;
  url: string;
  /** The session environment's networking: `limited` reaches only its allowed hosts (none by default). */
  networking: SandboxNetworking;
  /** The tool config's domain filters, when set. */
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/** What the model sees, like a sandbox tool's result: a refusal or failure is `isError`, never thrown. */
export interface WebFetchResult {
  output: string;
  isError: boolean;
}
