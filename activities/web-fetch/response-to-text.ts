import { TextDecoder } from 'node:util';

import { convert } from 'html-to-text';

/** How a response body is turned into text: HTML is converted, other text is returned as is. */
export type TextKind = 'html' | 'text';

/** The media type of a `content-type` header, lower-case, without parameters. */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Which text a content type is, or `null` when it is not text (images, PDFs, archives…), which `web_fetch` refuses:
 * HTML and XHTML are converted; `text/*`, JSON, XML, JavaScript, YAML and TOML are read as they are.
 */
export function textKindOf(contentType: string): TextKind | null {
  const mediaType = mediaTypeOf(contentType);
  if (mediaType === 'text/html' || mediaType === 'application/xhtml+xml') return 'html';
  if (mediaType.startsWith('text/')) return 'text';
  if (/^application\/([\w.-]+\+)?(json|xml)$/.test(mediaType)) return 'text';
  if (/^application\/(x-)?(javascript|ecmascript|yaml|toml|ndjson|x-ndjson)$/.test(mediaType)) return 'text';
  return null;
}

/** What a body without a `content-type` is: text when its start has no NUL byte, HTML when it starts like HTML. */
export function sniffTextKind(bytes: Buffer): TextKind | null {
  const head = bytes.subarray(0, 1024);
  if (head.includes(0)) return null;
  return /^\s*<(!doctype html|html)[\s>]/i.test(head.toString('latin1')) ? 'html' : 'text';
}

/**
 * Decodes a body in the `charset` of its content type (UTF-8 when absent or unknown). When the body was cut, a
 * character split at the cut is dropped rather than shown as a replacement character.
 */
export function decodeBody(bytes: Buffer, contentType: string | undefined, truncated: boolean): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? 'utf-8');
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  const text = decoder.decode(bytes);
  return truncated ? text.replace(/\uFFFD$/, '') : text;
}

/**
 * Readable text of an HTML page, by `html-to-text`: its title on the first line, then the body with headings, lists and
 * tables laid out as text, links as `text [absolute href]` (resolved against `pageUrl`, so the model can fetch them),
 * images, scripts and styles left out, and no hard wrapping.
 */
export function htmlToReadableText(html: string, pageUrl: URL): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
  const headingsAsWritten = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
    selector,
    options: { uppercase: false },
  }));
  const body = convert(html, {
    wordwrap: false,
    selectors: [
      ...headingsAsWritten,
      { selector: 'img', format: 'skip' },
      {
        selector: 'a',
        options: {
          noAnchorUrl: true,
          hideLinkHrefIfSameAsText: true,
          pathRewrite: (path: string) => (URL.canParse(path, pageUrl.href) ? new URL(path, pageUrl).href : path),
        },
      },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  });
  return title === undefined || title === '' ? body : `Title: ${convert(title, { wordwrap: false })}\n\n${body}`;
}
