export * from './rpc-dispatcher';
export * from './cursor';
export * from './exec-context';
export * from '../repositories/processed-requests.repository';
export * from './dialect';
export { EPOS_DATA } from '../dialects/epos-data/dialect';
export * from './dialect-router';
export { dialects } from '../dialects';
