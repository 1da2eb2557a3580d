export * from './redaction';
export * from './logger';
export * from './telemetry';
export * from './metrics';
export * from './http-observation';
export * from './event-loop-delay';
