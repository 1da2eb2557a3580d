/**
 * A person's ad-measurement consent over time. Consent events may arrive in any order, so the
 * whole timeline is kept and a purchase is judged by the consent in force at the purchase's
 * time. No event before a purchase means no consent: counting someone needs a "yes".
 */
export interface ConsentChange {
  /** When the person changed it (the event's occurredAt), epoch ms. */
  at: number;
  /** The wallet's per-person event sequence: orders changes made within one millisecond. */
  sequence: number;
  granted: boolean;
}

export class ConsentTimeline {
  private readonly changes: readonly ConsentChange[];

  constructor(changes: readonly ConsentChange[]) {
    this.changes = [...changes].sort((a, b) => a.at - b.at || a.sequence - b.sequence);
  }

  /** Consent in force at `at`: the last change made at or before it. A change applies from its own instant on. */
  grantedAt(at: number): boolean {
    let granted = false;
    for (const change of this.changes) {
      if (change.at > at) break;
      granted = change.granted;
    }
    return granted;
  }
}
