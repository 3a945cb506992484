import { useState } from 'preact/hooks';
import type { JSX } from 'preact';

/** The message box: Enter on the Send button or Ctrl+Enter in the box sends; the box empties once sent. */
export function Composer(props: { onSend: (text: string) => Promise<void>; disabled: boolean }): JSX.Element {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const submit = async (event?: Event): Promise<void> => {
    event?.preventDefault();
    if (text.trim() === '' || sending) return;
    setSending(true);
    try {
      await props.onSend(text);
      setText('');
    } finally {
      setSending(false);
    }
  };
  return (
    <form class="composer" onSubmit={(event) => void submit(event)}>
      <label for="composer-text">Message</label>
      <textarea
        id="composer-text"
        value={text}
        disabled={props.disabled}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void submit();
        }}
      />
      <button type="submit" disabled={props.disabled || sending}>
        Send
      </button>
    </form>
  );
}
