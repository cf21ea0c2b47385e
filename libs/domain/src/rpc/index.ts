export * from './rpc-dispatcher';
export * from './cursor';
export * from './exec-context';
export * from './processed-requests';
export * from './dialect';
