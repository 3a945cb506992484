import type { RepositoryErrorType, RepositoryFailure } from '../../common/repository-clone';
import { REDACTED, redactSecret } from '../mcp/redact-secret';

/** What a failed `git` run left to go on. */
export interface GitFailure {
  /** `clone` (the fetch, and the branch `--branch` names) or `checkout` (the commit, after the clone). */
  stage: 'clone' | 'checkout';
  url: string;
  /** git's standard error (`LC_ALL=C`, so in English). */
  stderr: string;
  /** Its exit status; `null` when it was killed (a timeout). */
  exitCode: number | null;
  /** Everything that must not appear in the message: the token, and the forms it was sent in. */
  secrets: readonly string[];
}

/** Lines of git's stderr that say what went wrong, in the order they came. */
const TELLING_LINE = /^(fatal|error|remote):/;
const MAX_LINES = 4;

/**
 * Classifies a failed clone or checkout into the five `session.error` types the SDK names: the host refused the
 * credentials or wanted some (HTTP 401, "Authentication failed", git asking for a user name it may not prompt for),
 * refused access (403), does not know the repository (404, "not found"), the branch or commit is missing, or anything
 * else (an unreachable host, a timeout). The message quotes git's telling lines with every secret redacted.
 */
export function classifyGitFailure(failure: GitFailure): RepositoryFailure {
  const { stderr } = failure;
  const type = failureType(failure);
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const telling = lines.filter((line) => TELLING_LINE.test(line));
  const quoted = (telling.length > 0 ? telling : lines).slice(-MAX_LINES).join(' ');
  const what = failure.stage === 'clone' ? `Cloning ${failure.url}` : `Checking out the commit of ${failure.url}`;
  const detail =
    quoted.length > 0 ? quoted : failure.exitCode === null ? 'git did not finish in time' : `exit ${failure.exitCode}`;
  return { type, message: redact(`${what} failed: ${detail}`, failure.secrets) };
}

function failureType({ stage, stderr }: GitFailure): RepositoryErrorType {
  if (stage === 'checkout') return 'repository_checkout_error';
  if (/Remote branch .* not found|couldn't find remote ref|Could not find remote branch/i.test(stderr)) {
    return 'repository_checkout_error';
  }
  if (
    /returned error: 401|Authentication failed|could not read (Username|Password)|terminal prompts disabled/i.test(
      stderr,
    )
  ) {
    return 'repository_authentication_error';
  }
  if (/returned error: 403|\b403 Forbidden\b/i.test(stderr)) return 'repository_forbidden_error';
  if (/returned error: 404|not found|does not appear to be a git repository/i.test(stderr)) {
    return 'repository_not_found_error';
  }
  return 'repository_clone_error';
}

/** `text` with every secret replaced (longest first, so a secret inside another goes with it), and shortened. */
function redact(text: string, secrets: readonly string[]): string {
  const ordered = [...secrets].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
  return redactSecret(
    ordered.reduce((redacted, secret) => redacted.split(secret).join(REDACTED), text),
    null,
  );
}
