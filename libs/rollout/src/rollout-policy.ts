/**
 * Where Pay is live: per country, the apps that offer it. Plain rules, no I/O; the wallet and
 * payment orchestration both ask the same policy, read from the same file (rollout-source.ts).
 */
export interface CountryRollout {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Apps in which Pay is live there; empty means announced but not live. */
  apps: readonly string[];
}

export type RolloutRefusal = 'PAY_NOT_AVAILABLE_IN_COUNTRY' | 'PAY_NOT_AVAILABLE_IN_APP';

/** A person's country or app is not (yet) in the rollout; the message says so plainly. */
export class RolloutError extends Error {
  override name = 'RolloutError';
  constructor(
    readonly code: RolloutRefusal,
    message: string,
    readonly country: string,
    readonly app?: string,
  ) {
    super(message);
  }
}

export class RolloutPolicy {
  private readonly byCountry: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(countries: readonly CountryRollout[]) {
    this.byCountry = new Map(countries.map((entry) => [entry.country, new Set(entry.apps)]));
  }

  /** Countries where Pay is live in at least one app. */
  liveCountries(): string[] {
    return [...this.byCountry]
      .filter(([, apps]) => apps.size > 0)
      .map(([country]) => country)
      .sort();
  }

  /** Apps where Pay is live in a country (none for a country not rolled out). */
  liveApps(country: string): string[] {
    return [...(this.byCountry.get(country.toUpperCase()) ?? [])].sort();
  }

  isLive(country: string, app?: string): boolean {
    const apps = this.byCountry.get(country.toUpperCase());
    if (!apps || apps.size === 0) return false;
    return app === undefined || apps.has(app);
  }

  /** Throws a RolloutError unless Pay is live in the country (and in the app, when given). */
  assertLive(country: string, app?: string): void {
    const upper = country.toUpperCase();
    const apps = this.byCountry.get(upper);
    if (!apps || apps.size === 0) {
      throw new RolloutError('PAY_NOT_AVAILABLE_IN_COUNTRY', `Pay is not available in ${upper} yet`, upper, app);
    }
    if (app !== undefined && !apps.has(app)) {
      const live = [...apps].sort().join(', ');
      throw new RolloutError('PAY_NOT_AVAILABLE_IN_APP', `Pay is not available in ${app} in ${upper} yet; it is available in ${live}`, upper, app);
    }
  }
}
