export * from './rpc-dispatcher';
export * from './cursor';
export * from './exec-context';
export * from './processed-requests';
export * from './dialect';
export { EPOS_DATA } from '../dialects/epos-data/dialect';
