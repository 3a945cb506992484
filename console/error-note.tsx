import type { JSX } from 'preact';

/** An error sentence, announced to screen readers (`role="alert"`); nothing when there is none. */
export function ErrorNote(props: { error: string | null }): JSX.Element | null {
  if (props.error === null) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}
