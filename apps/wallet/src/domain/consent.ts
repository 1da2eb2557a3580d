/**
 * Consent to use a person's payment data for ad measurement. Where the law asks for opt-in
 * (AD_CONSENT_OPT_IN_COUNTRIES: the EEA, the UK, Switzerland by default) it starts off; elsewhere
 * it starts on and the person can switch it off. Either way the choice is published.
 */
export function defaultAdMeasurementConsent(country: string, optInCountries: ReadonlySet<string>): boolean {
  return !optInCountries.has(country.toUpperCase());
}

/** EU and EEA members, the United Kingdom and Switzerland. */
export const OPT_IN_COUNTRIES_DEFAULT = [
  'AT',
  'BE',
  'BG',
  'CY',
  'CZ',
  'DE',
  'DK',
  'EE',
  'ES',
  'FI',
  'FR',
  'GR',
  'HR',
  'HU',
  'IE',
  'IT',
  'LT',
  'LU',
  'LV',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SE',
  'SI',
  'SK',
  'IS',
  'LI',
  'NO',
  'GB',
  'CH',
] as const;
