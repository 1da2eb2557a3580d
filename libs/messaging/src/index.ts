export * from './kafka/kafka-client';
export * from './kafka/event-publisher';
export * from './inbox/inbox.schema';
export * from './inbox/inbox-consumer';
export * from './outbox/outbox.schema';
export * from './outbox/outbox-writer';
export * from './outbox/outbox-relay';
export * from './dlq/dlq-replayer';
