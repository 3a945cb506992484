import type Anthropic from '@anthropic-ai/sdk';
import { useEffect, useReducer, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { applyItem, EMPTY_TRANSCRIPT } from './transcript';
import type { StreamedItem, TranscriptItem } from './transcript';
import { Composer } from './composer';

/**
 * One session live: the stream is opened first (it delivers only what happens after it opened), then the history is
 * listed; the reducer drops what both deliver. When the stream ends or drops, it is opened again and the history listed
 * again, so nothing is lost or shown twice.
 */
export function SessionView(props: { client: Anthropic; sessionId: string }): JSX.Element {
  const { client, sessionId } = props;
  const [transcript, dispatch] = useReducer(applyItem, EMPTY_TRANSCRIPT);
  const [title, setTitle] = useState(sessionId);
  // The status when the page opened; the events' own status changes take over from it.
  const [openingStatus, setOpeningStatus] = useState<string>('unknown');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    const follow = async (): Promise<void> => {
      while (!abort.signal.aborted) {
        try {
          const stream = await client.beta.sessions.events.stream(
            sessionId,
            { event_deltas: ['agent.message'] },
            { signal: abort.signal },
          );
          for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) {
            dispatch(event as unknown as StreamedItem);
          }
          setError(null);
          for await (const item of stream) dispatch(item as unknown as StreamedItem);
        } catch (caught) {
          if (abort.signal.aborted) return;
          setError(`${describeError(caught)} (reconnecting)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    };
    client.beta.sessions
      .retrieve(sessionId)
      .then((session) => {
        setTitle(session.title ?? session.id);
        setOpeningStatus(session.status);
      })
      .catch((caught: unknown) => setError(describeError(caught)));
    void follow();
    return () => abort.abort();
  }, [client, sessionId]);

  const send = async (events: Parameters<typeof client.beta.sessions.events.send>[1]['events']): Promise<void> => {
    try {
      await client.beta.sessions.events.send(sessionId, { events });
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  const confirm = (toolUseId: string, result: 'allow' | 'deny'): Promise<void> =>
    send([{ type: 'user.tool_confirmation', tool_use_id: toolUseId, result }]);

  return (
    <section aria-labelledby="session-heading">
      <p>
        <a href="#/sessions">← Sessions</a>
      </p>
      <h1 id="session-heading">{title}</h1>
      <p>
        Status: <strong data-testid="session-status">{transcript.status ?? openingStatus}</strong>{' '}
        <button type="button" onClick={() => void send([{ type: 'user.interrupt' }])}>
          Interrupt
        </button>
      </p>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ol class="transcript" aria-label="Transcript" aria-live="polite">
        {transcript.items.map((item) => (
          <TranscriptEntry
            key={item.id}
            item={item}
            awaiting={transcript.awaitingConfirmation.includes(item.id)}
            onConfirm={(result) => void confirm(item.id, result)}
          />
        ))}
      </ol>
      <Composer
        onSend={(text) => send([{ type: 'user.message', content: [{ type: 'text', text }] }])}
        disabled={transcript.status === 'terminated'}
      />
    </section>
  );
}

function TranscriptEntry(props: {
  item: TranscriptItem;
  awaiting: boolean;
  onConfirm: (result: 'allow' | 'deny') => void;
}): JSX.Element {
  const { item } = props;
  switch (item.kind) {
    case 'user':
      return <li class="user" data-kind="user">{`You: ${item.text}`}</li>;
    case 'agent':
      return (
        <li class="agent" data-kind="agent" data-streaming={String(item.streaming)}>
          {item.text}
        </li>
      );
    case 'thinking':
      return (
        <li class="thinking" data-kind="thinking">
          <details>
            <summary>Thinking</summary>
            {item.text}
          </details>
        </li>
      );
    case 'tool':
      return (
        <li class="tool" data-kind="tool">
          <strong>Tool call: {item.name}</strong>
          <pre>{JSON.stringify(item.input, null, 2)}</pre>
          {item.answer !== undefined && <p>Answer: {item.answer}</p>}
          {props.awaiting && (
            <p role="group" aria-label={`Confirm ${item.name}`}>
              <button type="button" onClick={() => props.onConfirm('allow')}>
                Allow
              </button>{' '}
              <button type="button" onClick={() => props.onConfirm('deny')}>
                Deny
              </button>
            </p>
          )}
          {item.result !== undefined && (
            <details data-kind="tool-result">
              <summary>{item.isError === true ? 'Result (error)' : 'Result'}</summary>
              <pre>{item.result}</pre>
            </details>
          )}
        </li>
      );
    case 'status':
      return <li class="status">{item.text}</li>;
    case 'error':
      return (
        <li class="session-error" role="alert">
          {item.text}
        </li>
      );
  }
}
