export * from './dojo-client';
