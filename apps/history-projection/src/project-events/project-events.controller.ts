import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { eventDefinitions, Topics } from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { InboxContext } from '@pay/messaging';
import { LiveVersionGuess } from './project-chunk';
import { PendingProjection } from './store-and-project';

/**
 * Every event type of the three topics: even the types this version of the projection ignores
 * are kept in `raw_events`, so that a later version can use them after a rebuild.
 */
function projectedEventTypes(): string[] {
  const topics = new Set<string>([Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]);
  return [
    ...new Set(
      eventDefinitions()
        .filter((definition) => topics.has(definition.topic))
        .map((definition) => definition.type),
    ),
  ];
}

/** The key of the per-transaction projection work. */
const PENDING_PROJECTION = {};

/**
 * The live path of the projection (consumer group HISTORY_CONSUMER_GROUP): the events of an inbox
 * transaction (a chunk of a Kafka batch) are stored and projected together before it commits.
 */
@Controller()
export class ProjectEventsController {
  /** The live version this consumer last projected into (checked by every chunk's first statement). */
  private readonly live = new LiveVersionGuess();

  @EventPattern(projectedEventTypes())
  project(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): void {
    context
      .getBatch()
      .work(PENDING_PROJECTION, () => new PendingProjection(context.getSql(), this.live))
      .add(event);
  }
}
