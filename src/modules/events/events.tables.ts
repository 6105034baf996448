/** The events module's tables (camelCase; see the migration `20261207020000_create_event_consumers`). */
export type EventsTables = {
  domainEvents: { id: string; name: string; payload: unknown; createdAt: string; relayedAt: string | null; relaySeq: number | null };
  eventSubscribers: { name: string; cursorSeq: number; cursorId: string; lastError: string | null; updatedAt: string };
  webhooks: {
    id: string;
    name: string;
    url: string;
    events: unknown;
    enabled: number | boolean;
    secretSealed: string;
    keyId: string;
    wrappedKey: string;
    createdAt: string;
    updatedAt: string;
  };
  webhookDeliveries: {
    id: string;
    webhookId: string;
    eventId: string;
    eventName: string;
    body: string;
    status: string;
    attempts: number;
    nextAttemptAt: string | null;
    statusCode: number | null;
    durationMs: number | null;
    error: string | null;
    createdAt: string;
    updatedAt: string;
  };
};
