/** ad-signal-aggregation's test kit for tests outside the app (`@pay/ad-signal-aggregation/testing`). */
export * from './ad-signals-test-kit';
