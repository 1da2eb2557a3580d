export * from './sql';
export * from './begin-with';
