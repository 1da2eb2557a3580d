/**
 * kafkajs 2.2.4 arms a timer on every broker connection with a negative delay while nothing is
 * pending and nothing throttled (`throttledUntil` starts at -1): Node 24 warns
 * (TimeoutNegativeWarning) and runs it after 1 ms, and the timer re-arms itself, a 1 ms loop per
 * connection (tulios/kafkajs#1751, #1704; the fix of PR #1768's review, unreleased). Here that
 * case arms nothing: a request queued later schedules its own check (`push`), and an answer
 * checks the queue (`fulfillRequest`). Installed once per process by `createKafka`.
 */
// kafkajs has no typings for its internals; the path is stable within 2.x.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };

interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL = 10; // kafkajs's own
let installed = false;

export function installRequestQueueTimerFix(): void {
  if (installed) return;
  installed = true;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals): void {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    if (this.pending.length === 0 && untilUnthrottled <= 0) return; // nothing to check, now or later
    const delay = this.pending.length > 0 && untilUnthrottled <= 0 ? CHECK_PENDING_REQUESTS_INTERVAL : untilUnthrottled;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
}
