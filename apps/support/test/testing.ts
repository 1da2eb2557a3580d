/** support's test kit for tests and benches outside the app (`@pay/support/testing`). */
export * from './support-test-kit';
