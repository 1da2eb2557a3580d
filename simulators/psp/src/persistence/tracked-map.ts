/**
 * A map that notes which entries a request handed out or stored. The simulator's handlers
 * change Stripe objects in place after `get` or `set`, so "touched" is a safe superset of
 * "changed": the journal rewrites the touched objects after each request.
 */
export class TrackedMap<V> extends Map<string, V> {
  private readonly touched = new Set<string>();

  constructor(private readonly trackReads: boolean) {
    super();
  }

  override get(key: string): V | undefined {
    const value = super.get(key);
    if (value !== undefined && this.trackReads) this.touched?.add(key);
    return value;
  }

  override set(key: string, value: V): this {
    super.set(key, value);
    // Map's constructor may call set before the field exists.
    this.touched?.add(key);
    return this;
  }

  /** Puts back an entry read from the journal, without marking it touched. */
  restore(key: string, value: V): void {
    super.set(key, value);
  }

  /** The entries touched since the last call, as they are now. */
  takeTouched(): [string, V][] {
    const entries: [string, V][] = [];
    for (const key of this.touched) {
      const value = super.get(key);
      if (value !== undefined) entries.push([key, value]);
    }
    this.touched.clear();
    return entries;
  }

  override clear(): void {
    super.clear();
    this.touched?.clear();
  }
}
