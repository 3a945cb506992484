import type { SearchHit, SearchProvider } from './search-provider';

/**
 * Searches through a SearXNG instance (`GET <base>/search?q=…&format=json`, JSON output enabled in its settings): the
 * open-source metasearch engine a self-hosted deployment can run next to Keel.
 */
export class SearxngSearchProvider implements SearchProvider {
  readonly name = 'SearXNG';

  constructor(private readonly baseUrl: string) {}

  async search(query: string, options: { signal: AbortSignal }): Promise<SearchHit[]> {
    const url = new URL('search', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    url.searchParams.set('q', query);
    url.searchParams.set('format', 'json');
    const response = await fetch(url, { signal: options.signal, headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`SearXNG answered HTTP ${response.status}`);
    const body = (await response.json()) as { results?: Array<{ title?: unknown; url?: unknown; content?: unknown }> };
    return (body.results ?? []).flatMap((result) =>
      typeof result.url === 'string'
        ? [
            {
              title: typeof result.title === 'string' ? result.title : result.url,
              url: result.url,
              snippet: typeof result.content === 'string' ? result.content : '',
            },
          ]
        : [],
    );
  }
}
