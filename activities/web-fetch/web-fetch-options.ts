/** Limits of the `webFetch` Activity, set once by the worker. */
export interface WebFetchActivityOptions {
  /** Most bytes of a response body read (after decompression); the rest is not downloaded. Default 1 MiB. */
  maxBytes?: number;
  /** Deadline of one fetch, redirects included. Default 30 s. */
  timeoutMs?: number;
  /** Most UTF-8 bytes of text returned to the model (after HTML conversion); the head is kept. Default 100 KB. */
  maxOutputBytes?: number;
  /**
   * With `unrestricted` networking, refuse hosts that are or resolve to loopback, private, link-local (cloud metadata)
   * or other non-public addresses, since the fetch runs in the worker, inside the operator's network. `limited`
   * networking trusts its explicit list of hosts and is not affected. Default `true`.
   */
  blockPrivateAddresses?: boolean;
}

/** `WebFetchActivityOptions` with every default filled in. */
export type ResolvedWebFetchActivityOptions = Required<WebFetchActivityOptions>;

/** Defaults of `WebFetchActivityOptions`. */
export const WEB_FETCH_DEFAULTS = {
  maxBytes: 1024 * 1024,
  timeoutMs: 30_000,
  maxOutputBytes: 100_000,
  blockPrivateAddresses: true,
} as const;

/** Redirects followed before a fetch gives up; the policy is checked again at every hop. */
export const WEB_FETCH_MAX_REDIRECTS = 5;

/** Fills in the defaults; a non-positive limit is a wiring bug, so it throws. */
export function resolveWebFetchActivityOptions(options: WebFetchActivityOptions = {}): ResolvedWebFetchActivityOptions {
  const resolved: ResolvedWebFetchActivityOptions = {
    maxBytes: options.maxBytes ?? WEB_FETCH_DEFAULTS.maxBytes,
    timeoutMs: options.timeoutMs ?? WEB_FETCH_DEFAULTS.timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? WEB_FETCH_DEFAULTS.maxOutputBytes,
    blockPrivateAddresses: options.blockPrivateAddresses ?? WEB_FETCH_DEFAULTS.blockPrivateAddresses,
  };
  for (const name of ['maxBytes', 'timeoutMs', 'maxOutputBytes'] as const) {
    if (!(resolved[name] > 0))
      throw new RangeError(`web_fetch option ${name} must be positive, got ${resolved[name]}.`);
  }
  return resolved;
}
