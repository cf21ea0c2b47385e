export * from './error-text';
export * from './dead-letter-repository';
export * from './dead-letters.usecases';
