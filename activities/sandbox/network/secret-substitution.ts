import type http from 'node:http';

import type { SecretSubstitution } from '../../../common/credentials';

/**
 * The substitutions that apply to a request to `host`: those whose credential is `unrestricted`, and those whose
 * `allowed_hosts` has `host` exactly (case-insensitively, without a trailing dot) or, for a `*.example.com` entry, a
 * subdomain of `example.com` (not `example.com` itself). Elsewhere a placeholder passes unchanged.
 */
export function substitutionsFor(substitutions: SecretSubstitution[], host: string): SecretSubstitution[] {
  const target = normalize(host);
  return substitutions.filter(
    (substitution) =>
      substitution.allowedHosts === null ||
      substitution.allowedHosts.some((entry) => {
        const allowed = normalize(entry);
        return allowed.startsWith('*.') ? target.endsWith(allowed.slice(1)) : target === allowed;
      }),
  );
}

/** `headers` with every placeholder of a header-location substitution replaced by its secret, in every value. */
export function substituteHeaders(
  headers: http.OutgoingHttpHeaders,
  substitutions: SecretSubstitution[],
): http.OutgoingHttpHeaders {
  const inHeaders = substitutions.filter((substitution) => substitution.header);
  if (inHeaders.length === 0) return headers;
  const replace = (value: string): string =>
    inHeaders.reduce((text, substitution) => text.replaceAll(substitution.placeholder, substitution.secret), value);
  const result: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') result[name] = replace(value);
    else if (Array.isArray(value)) result[name] = value.map(replace);
    else if (value !== undefined) result[name] = value;
  }
  return result;
}

/**
 * `body` with every placeholder of a body-location substitution replaced by its secret (as UTF-8), byte for byte:
 * the rest of the body, text or not, is left as it was.
 */
export function substituteBody(body: Buffer, substitutions: SecretSubstitution[]): Buffer {
  const inBody = substitutions.filter((substitution) => substitution.body);
  if (inBody.length === 0) return body;
  // Latin-1 maps each byte to one character and back, so replacing in it changes nothing but the placeholders.
  let text = body.toString('latin1');
  for (const substitution of inBody) {
    text = text.replaceAll(substitution.placeholder, Buffer.from(substitution.secret, 'utf8').toString('latin1'));
  }
  return Buffer.from(text, 'latin1');
}

function normalize(host: string): string {
  let value = host.trim().toLowerCase();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  return value.endsWith('.') ? value.slice(0, -1) : value;
}
