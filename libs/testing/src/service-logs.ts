import { Writable } from 'node:stream';

/**
 * Every line the services a test file runs in its own process log, kept to be scanned for what
 * must never appear: the real logger (scrubbing included), only its default destination replaced.
 * Jest hoists `jest.mock` above the imports only when it stands in the test file, so the file
 * names this module from there:
 *
 *   jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());
 *   import { serviceLogs } from '@pay/testing/service-logs';
 *
 * (`requireActual` and the import share one instance of this module, so `serviceLogs` is the list
 * written to.) It is its own entry point, not part of `@pay/testing`, so that loading it inside the
 * mock's factory loads nothing that imports `@pay/observability` while that mock is being built.
 * TEST_SERVICE_LOGS=1 also shows the (scrubbed) lines on stderr while debugging a test.
 */
export const serviceLogs: string[] = [];

const keptLogs = new Writable({
  write(chunk: Buffer, _encoding, done) {
    serviceLogs.push(chunk.toString());
    if (process.env.TEST_SERVICE_LOGS === '1') process.stderr.write(chunk);
    done();
  },
});

/** `@pay/observability` whose loggers write to `serviceLogs` unless given a destination of their own. */
export function observabilityKeepingLogs(): unknown {
  const actual = jest.requireActual<typeof import('@pay/observability')>('@pay/observability');
  return {
    ...actual,
    createLogger: (service: string, level?: string, own?: Parameters<typeof actual.createLogger>[2]) => actual.createLogger(service, level, own ?? keptLogs),
  };
}
