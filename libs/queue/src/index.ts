export * from './rpc-client';
export * from './rpc-worker';
export * from './reply-stream';
