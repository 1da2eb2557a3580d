/**
 * Consent to use a person's payment data for ad measurement is opt-in everywhere: it starts off
 * and only the person switches it on. A country whose law allows another default gets consent
 * on from the start only when an operator lists it explicitly
 * (AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES, empty unless configured; see docs/privacy.md).
 * Either way the starting state is published as a `consent.changed` with source `default`.
 */
export function defaultAdMeasurementConsent(country: string, grantedByDefaultCountries: ReadonlySet<string>): boolean {
  return grantedByDefaultCountries.has(country.toUpperCase());
}
