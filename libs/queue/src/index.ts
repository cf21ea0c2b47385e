export * from './rpc-client';
export * from './rpc-worker';
export * from './reply-stream';
export * from './connection-status';
