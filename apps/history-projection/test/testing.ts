/** history-projection's test kit for tests outside the app (`@pay/history-projection/testing`). */
export * from './history-test-kit';
export * from './history-workload';
export * from './in-memory-projection';
