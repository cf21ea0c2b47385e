export * from './env';
export * from './wait';
