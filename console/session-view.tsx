import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { BetaManagedAgentsSessionThread } from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import { useEffect, useReducer, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import type { ConsoleConfig } from './api-client';
import { applyItem, EMPTY_TRANSCRIPT, RECONNECTED } from './transcript';
import type { StreamedItem } from './transcript';
import { Composer } from './composer';
import { SessionDetails } from './session-details';
import { TranscriptEntry } from './transcript-entry';
import type { ToolAnswer } from './transcript-entry';

/** How long the page waits before opening the stream again after it ended or dropped. */
const RECONNECT_DELAY_MS = 1_000;

/**
 * One session live. The stream is opened first (it delivers only what happens after it opened), then the history is
 * listed; the reducer drops what both deliver. When the stream ends or drops, it is opened again with `Last-Event-ID`
 * set to the last event the page applied (Keel's extension: the stream resumes right after it), so nothing is lost;
 * the reducer's de-duplication by id means nothing shows twice either.
 */
export function SessionView(props: {
  client: Anthropic;
  sessionId: string;
  config: ConsoleConfig | null;
}): JSX.Element {
  const { client, sessionId } = props;
  const [transcript, dispatch] = useReducer(applyItem, EMPTY_TRANSCRIPT);
  const [session, setSession] = useState<BetaManagedAgentsSession | null>(null);
  const [threads, setThreads] = useState<BetaManagedAgentsSessionThread[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connection, setConnection] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  useEffect(() => {
    const abort = new AbortController();
    const follow = async (): Promise<void> => {
      let lastEventId: string | undefined;
      const apply = (item: StreamedItem): void => {
        if (typeof item.id === 'string' && item.type !== 'event_start' && item.type !== 'event_delta')
          lastEventId = item.id;
        dispatch(item);
      };
      while (!abort.signal.aborted) {
        try {
          const resumeFrom = lastEventId;
          const stream = await client.beta.sessions.events.stream(
            sessionId,
            { event_deltas: ['agent.message'] },
            { signal: abort.signal, ...(resumeFrom === undefined ? {} : { headers: { 'Last-Event-ID': resumeFrom } }) },
          );
          if (resumeFrom === undefined) {
            for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) {
              apply(event as unknown as StreamedItem);
            }
          }
          setError(null);
          setConnection('live');
          for await (const item of stream) apply(item as unknown as StreamedItem);
        } catch (caught) {
          if (abort.signal.aborted) return;
          setError(`${describeError(caught)} (reconnecting)`);
        }
        setConnection('reconnecting');
        dispatch(RECONNECTED);
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
      }
    };
    void follow();
    return () => abort.abort();
  }, [client, sessionId]);
  // The session's resources, usage, budget and threads, read again whenever its status changes (a turn's usage lands then).
  useEffect(() => {
    let current = true;
    client.beta.sessions
      .retrieve(sessionId)
      .then((retrieved) => current && setSession(retrieved))
      .catch((caught: unknown) => current && setError(describeError(caught)));
    client.beta.sessions.threads
      .list(sessionId)
      .then((page) => current && setThreads(page.data))
      .catch((caught: unknown) => current && setError(describeError(caught)));
    return () => {
      current = false;
    };
  }, [client, sessionId, transcript.status]);

  const send = async (events: Parameters<typeof client.beta.sessions.events.send>[1]['events']): Promise<void> => {
    try {
      await client.beta.sessions.events.send(sessionId, { events });
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  const answer = (toolUseId: string, given: ToolAnswer): Promise<void> => {
    if (given.kind === 'custom_result') {
      return send([
        {
          type: 'user.custom_tool_result',
          custom_tool_use_id: toolUseId,
          content: [{ type: 'text', text: given.text }],
          is_error: given.isError,
        },
      ]);
    }
    return send([
      {
        type: 'user.tool_confirmation',
        tool_use_id: toolUseId,
        result: given.kind,
        ...(given.kind === 'deny' && given.reason !== '' ? { deny_message: given.reason } : {}),
      },
    ]);
  };

  return (
    <section aria-labelledby="session-heading">
      <p>
        <a href="#/sessions">← Sessions</a>
      </p>
      <h1 id="session-heading">{session?.title ?? sessionId}</h1>
      <p>
        Status: <strong data-testid="session-status">{transcript.status ?? session?.status ?? 'unknown'}</strong>{' '}
        <button type="button" onClick={() => void send([{ type: 'user.interrupt' }])}>
          Interrupt
        </button>{' '}
        <span data-testid="connection" class="connection">
          {connection === 'live' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
      </p>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="session-layout">
        <div class="session-main">
          <ol class="transcript" aria-label="Transcript" aria-live="polite">
            {transcript.items.map((item) => (
              <TranscriptEntry
                key={item.id}
                item={item}
                awaiting={transcript.awaitingConfirmation.includes(item.id)}
                onAnswer={(given) => answer(item.id, given)}
              />
            ))}
          </ol>
          <Composer
            onSend={(text) => send([{ type: 'user.message', content: [{ type: 'text', text }] }])}
            disabled={transcript.status === 'terminated'}
          />
        </div>
        <SessionDetails session={session} threads={threads} sessionId={sessionId} config={props.config} />
      </div>
    </section>
  );
}
