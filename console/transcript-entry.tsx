import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import type { TranscriptItem } from './transcript';

/** The user's answer to a tool call the session waits on: allow, deny (with an optional reason), or a custom result. */
export type ToolAnswer =
  { kind: 'allow' } | { kind: 'deny'; reason: string } | { kind: 'custom_result'; text: string; isError: boolean };

/** One item of the transcript; a tool call the session waits on carries the controls to answer it. */
export function TranscriptEntry(props: {
  item: TranscriptItem;
  awaiting: boolean;
  onAnswer: (answer: ToolAnswer) => Promise<void>;
}): JSX.Element {
  const { item } = props;
  switch (item.kind) {
    case 'user':
      return <li class="user" data-kind="user" data-event-id={item.id}>{`You: ${item.text}`}</li>;
    case 'agent':
      return (
        <li class="agent" data-kind="agent" data-event-id={item.id} data-streaming={String(item.streaming)}>
          {item.text}
        </li>
      );
    case 'thinking':
      return (
        <li class="thinking" data-kind="thinking" data-event-id={item.id}>
          <details>
            <summary>Thinking</summary>
            {item.text}
          </details>
        </li>
      );
    case 'tool':
      return (
        <li class="tool" data-kind="tool" data-event-id={item.id} data-custom={String(item.custom === true)}>
          <strong>
            {item.custom === true ? 'Custom tool call' : 'Tool call'}: {item.name}
          </strong>
          <pre>{JSON.stringify(item.input, null, 2)}</pre>
          {item.answer !== undefined && <p>Answer: {item.answer}</p>}
          {props.awaiting &&
            (item.custom === true ? (
              <CustomToolResultForm toolUseId={item.id} name={item.name} onAnswer={props.onAnswer} />
            ) : (
              <ConfirmationForm toolUseId={item.id} name={item.name} onAnswer={props.onAnswer} />
            ))}
          {item.result !== undefined && (
            <details data-kind="tool-result">
              <summary>{item.isError === true ? 'Result (error)' : 'Result'}</summary>
              <pre>{item.result}</pre>
            </details>
          )}
        </li>
      );
    case 'status':
      return (
        <li class="status" data-event-id={item.id}>
          {item.text}
        </li>
      );
    case 'error':
      return (
        <li class="session-error" role="alert" data-event-id={item.id}>
          {item.text}
        </li>
      );
  }
}

/** Allow, or deny with an optional reason the model is told (`deny_message`). */
function ConfirmationForm(props: {
  toolUseId: string;
  name: string;
  onAnswer: (answer: ToolAnswer) => Promise<void>;
}): JSX.Element {
  const [reason, setReason] = useState('');
  const reasonId = `deny-reason-${props.toolUseId}`;
  return (
    <form
      class="tool-answer"
      aria-label={`Confirm ${props.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        void props.onAnswer({ kind: 'deny', reason: reason.trim() });
      }}
    >
      <button type="button" onClick={() => void props.onAnswer({ kind: 'allow' })}>
        Allow
      </button>{' '}
      <label for={reasonId}>Reason to deny (optional)</label>{' '}
      <input id={reasonId} type="text" value={reason} onInput={(event) => setReason(event.currentTarget.value)} />{' '}
      <button type="submit">Deny</button>
    </form>
  );
}

/** The result of a custom tool, which the user runs: its text, and whether it is an error. */
function CustomToolResultForm(props: {
  toolUseId: string;
  name: string;
  onAnswer: (answer: ToolAnswer) => Promise<void>;
}): JSX.Element {
  const [text, setText] = useState('');
  const [isError, setIsError] = useState(false);
  const [sending, setSending] = useState(false);
  const textId = `custom-result-${props.toolUseId}`;
  const errorId = `custom-result-error-${props.toolUseId}`;
  return (
    <form
      class="tool-answer"
      aria-label={`Result of ${props.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        setSending(true);
        void props.onAnswer({ kind: 'custom_result', text, isError }).finally(() => setSending(false));
      }}
    >
      <label for={textId}>Result of {props.name}</label>
      <textarea id={textId} required value={text} onInput={(event) => setText(event.currentTarget.value)} />
      <label>
        <input
          id={errorId}
          type="checkbox"
          checked={isError}
          onChange={(event) => setIsError(event.currentTarget.checked)}
        />{' '}
        It is an error
      </label>{' '}
      <button type="submit" disabled={sending}>
        Send result
      </button>
    </form>
  );
}
