export * from './postgres';
export * from './kafka';
export * from './prometheus';
export * from './built-service';
export * from './run-tool';
export * from './wait-for';
export * from './purchase-request';
