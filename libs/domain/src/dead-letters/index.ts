export * from './error-text';
export * from '../repositories/dead-letters.repository';
export * from './dead-letters.usecases';
