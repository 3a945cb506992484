import { useEffect, useState } from 'preact/hooks';
import { describeError } from './api-client';

/** What a page loaded from the API: the value once it came, or the error's sentence, and a way to load it again. */
export interface Loaded<T> {
  value: T | null;
  error: string | null;
  reload: () => void;
}

/**
 * Loads `load()` when `keys` change or `reload()` is called; an answer that arrives after a newer request started is
 * dropped, so a slow response never overwrites a newer one.
 */
export function useLoaded<T>(load: () => Promise<T>, keys: readonly unknown[]): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    load()
      .then((loaded) => {
        if (!current) return;
        setValue(loaded);
        setError(null);
      })
      .catch((caught: unknown) => current && setError(describeError(caught)));
    return () => {
      current = false;
    };
    // `load` is a new closure each render; `keys` say when it means something new.
  }, [...keys, generation]);
  return { value, error, reload: () => setGeneration((count) => count + 1) };
}

/** Every item of an SDK listing, page after page (the console's lists are small: agents, environments, files). */
export async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of pages) items.push(item);
  return items;
}
