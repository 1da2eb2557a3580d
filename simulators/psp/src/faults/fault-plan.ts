/**
 * Faults injected by the control API, for the next requests that match: answer with an HTTP
 * error instead of doing the work (`before`), or do the work and lose the answer (`after`:
 * the error replaces it, the idempotent result stays saved), or hold the answer.
 */
export interface FaultRule {
  /** Exact method, or any. */
  readonly method?: string;
  /** A path prefix, e.g. `/v1/refunds` or `/v1/payment_intents`. */
  readonly path?: string;
  readonly when: 'before' | 'after';
  readonly effect: { readonly type: 'error'; readonly status: number } | { readonly type: 'hold'; readonly ms: number };
  /** How many matching requests it applies to. */
  readonly count: number;
}

export class FaultPlan {
  private readonly rules: { rule: FaultRule; remaining: number }[] = [];

  add(rule: FaultRule): void {
    if (!Number.isInteger(rule.count) || rule.count < 1) throw new RangeError('count must be a positive integer');
    if (rule.effect.type === 'error' && (rule.effect.status < 400 || rule.effect.status > 599))
      throw new RangeError('status must be an HTTP error status (400-599)');
    this.rules.push({ rule, remaining: rule.count });
  }

  /** Takes the first rule that matches the request at this point, using one of its counts. */
  take(method: string, path: string, when: FaultRule['when']): FaultRule | undefined {
    const index = this.rules.findIndex(
      ({ rule }) => rule.when === when && (rule.method === undefined || rule.method === method) && (rule.path === undefined || path.startsWith(rule.path)),
    );
    if (index < 0) return undefined;
    const entry = this.rules[index];
    entry.remaining -= 1;
    if (entry.remaining === 0) this.rules.splice(index, 1);
    return entry.rule;
  }

  clear(): void {
    this.rules.length = 0;
  }
}
