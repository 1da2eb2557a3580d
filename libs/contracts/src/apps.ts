/**
 * The consumer apps Pay serves. Free of decorators, like topics.ts and topic-access.ts, so that
 * plain scripts (the test tiers' global set-up, `npm start`'s broker) can import the principals.
 */
export const APPS = ['facebook', 'instagram', 'messenger', 'whatsapp'] as const;
export type AppName = (typeof APPS)[number];
