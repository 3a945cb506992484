import { parse as parseYaml } from 'yaml';
import { invalidField } from '../api-error';
import type { ApiError } from '../api-error';

/** The most bytes of one skill upload, all files together (the hosted Skills API's limit). */
export const MAX_SKILL_UPLOAD_BYTES = 8 * 1024 * 1024;

/** The most files of one skill upload. */
export const MAX_SKILL_FILES = 1_000;

/** The most characters of a skill's `name` (SKILL.md front matter), as the Agent Skills docs set it. */
export const MAX_SKILL_NAME = 64;

/** The most characters of a skill's `description`. */
export const MAX_SKILL_DESCRIPTION = 1_024;

/** The most characters of a skill's `display_name`. */
export const MAX_SKILL_DISPLAY_NAME = 255;

/** The most characters of a file's path inside the skill's folder. */
const MAX_SKILL_PATH = 512;

/** A skill `name`: lowercase letters, digits and single hyphens between them. */
const SKILL_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Words a skill name may not contain: they would pass a custom skill off as Anthropic's. */
const RESERVED_NAME_WORDS = ['anthropic', 'claude'];

/** One uploaded file: its path as the client named it (`my-skill/SKILL.md`) and its bytes. */
export interface UploadedSkillFile {
  path: string;
  content: Buffer;
}

/** A checked upload: each file's path inside the skill's folder, and what SKILL.md's front matter says. */
export interface CheckedSkillUpload {
  name: string;
  description: string;
  files: UploadedSkillFile[];
}

/**
 * Checks a skill upload as the hosted API does: at least one file, every path relative and clean, all files in one
 * top-level folder (or none) with a `SKILL.md` at its root, whose YAML front matter has a `name` (at most 64 lowercase
 * letters, digits and hyphens, without "anthropic" or "claude") and a `description` (1 to 1,024 characters), neither
 * with XML tags. Paths come back relative to the skill's folder. Every problem is a 400 naming the field.
 */
export function checkSkillUpload(uploaded: readonly UploadedSkillFile[]): CheckedSkillUpload {
  if (uploaded.length === 0) throw invalidField('files', 'required: at least one file, SKILL.md among them');
  if (uploaded.length > MAX_SKILL_FILES) throw invalidField('files', `at most ${MAX_SKILL_FILES} files`);
  const segments = uploaded.map((file, index) => pathSegments(file.path, `files[${index}]`));
  const first = segments[0]?.[0];
  const inOneFolder = first !== undefined && segments.every((parts) => parts.length > 1 && parts[0] === first);
  const files = uploaded.map((file, index) => ({
    path: (inOneFolder ? (segments[index] ?? []).slice(1) : (segments[index] ?? [])).join('/'),
    content: file.content,
  }));
  const seen = new Set<string>();
  for (const [index, file] of files.entries()) {
    if (seen.has(file.path)) throw invalidField(`files[${index}]`, `${file.path} is uploaded twice`);
    seen.add(file.path);
  }
  const skillFile = files.find((file) => file.path === 'SKILL.md');
  if (skillFile === undefined) {
    throw invalidField(
      'files',
      'SKILL.md is missing: all files must be in one top-level folder with a SKILL.md at its root',
    );
  }
  const { name, description } = frontMatter(skillFile.content.toString('utf8'));
  return { name, description, files };
}

/** Checks a `display_name`: one line of 1 to 255 characters. */
export function checkDisplayName(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > MAX_SKILL_DISPLAY_NAME || /[\r\n]/.test(trimmed)) {
    throw invalidField('display_name', `expected one line of 1 to ${MAX_SKILL_DISPLAY_NAME} characters`);
  }
  return trimmed;
}

function pathSegments(path: string, field: string): string[] {
  const parts = path.split('/');
  const bad =
    path.length === 0 ||
    path.length > MAX_SKILL_PATH ||
    path.includes('\\') ||
    path.includes('\u0000') ||
    parts.some((part) => part === '' || part === '.' || part === '..');
  if (bad) {
    throw invalidField(field, `"${path.slice(0, 80)}" is not a relative file path (like my-skill/scripts/run.py)`);
  }
  return parts;
}

/** The `name` and `description` of SKILL.md's YAML front matter (between `---` lines at its start). */
function frontMatter(text: string): { name: string; description: string } {
  const match = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  if (match === null) {
    throw invalidField(
      'SKILL.md',
      'expected YAML front matter between --- lines at the start, with name and description',
    );
  }
  let data: unknown;
  try {
    data = parseYaml(match[1] ?? '');
  } catch (error) {
    throw invalidField('SKILL.md', `the front matter is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  return { name: checkName(fields['name']), description: checkDescription(fields['description']) };
}

function checkName(value: unknown): string {
  const problem = (text: string): ApiError => invalidField('SKILL.md name', text);
  if (typeof value !== 'string' || value === '') throw problem('required in the front matter');
  if (value.length > MAX_SKILL_NAME) throw problem(`at most ${MAX_SKILL_NAME} characters`);
  if (/<[^>]*>/.test(value)) throw problem('must not contain XML tags');
  if (!SKILL_NAME.test(value)) throw problem(`"${value}" must be lowercase letters, digits and hyphens`);
  const reserved = RESERVED_NAME_WORDS.find((word) => value.includes(word));
  if (reserved !== undefined) throw problem(`must not contain the reserved word "${reserved}"`);
  return value;
}

function checkDescription(value: unknown): string {
  const problem = (text: string): ApiError => invalidField('SKILL.md description', text);
  if (typeof value !== 'string' || value.trim() === '') throw problem('required in the front matter, not empty');
  if (value.length > MAX_SKILL_DESCRIPTION) throw problem(`at most ${MAX_SKILL_DESCRIPTION} characters`);
  if (/<[^>]*>/.test(value)) throw problem('must not contain XML tags');
  return value.trim();
}
