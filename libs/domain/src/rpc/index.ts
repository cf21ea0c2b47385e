export * from './rpc-dispatcher';
export * from './cursor';
export * from './exec-context';
export * from '../repositories/processed-requests.repository';
