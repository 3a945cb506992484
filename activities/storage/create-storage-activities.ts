import type { BlobStore } from '../../common/blob-store';
import type { ConversationRef, StoreConversationInput } from '../../common/conversation';
import type { EventArchiveRef } from '../../common/events';
import { archiveEvents, archiveRunIndexed, writeArchiveIndex } from './archive-events';
import type { ArchiveEventsInput, ArchiveRunIndexedInput, WriteArchiveIndexInput } from './archive-events';
import type { ConversationStore } from './conversation-store';

/** The storage Activities: archiving a run's events (and indexing the archives), and storing a conversation carried inline by an older run. */
export function createStorageActivities(dependencies: { blobs: BlobStore; conversations: ConversationStore }): {
  archiveEvents(input: ArchiveEventsInput): Promise<EventArchiveRef>;
  writeArchiveIndex(input: WriteArchiveIndexInput): Promise<string>;
  archiveRunIndexed(input: ArchiveRunIndexedInput): Promise<string>;
  storeConversation(input: StoreConversationInput): Promise<ConversationRef>;
} {
  return {
    archiveEvents: (input) => archiveEvents(input, dependencies.blobs),
    writeArchiveIndex: (input) => writeArchiveIndex(input, dependencies.blobs),
    archiveRunIndexed: (input) => archiveRunIndexed(input, dependencies.blobs),
    storeConversation: (input) => dependencies.conversations.appendMessages({ head: null }, input.messages),
  };
}
