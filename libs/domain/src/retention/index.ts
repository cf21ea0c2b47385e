export * from './prune-expired-records.usecase';
export * from './retention-sweeper';
export { DEFAULT_RETENTION } from '../core/rules/retention';
