export * from './env';
export * from './wait';
export * from './strict-json';
export * from './fixtures';
export * from './random';
export * from './pg-round-trips';
