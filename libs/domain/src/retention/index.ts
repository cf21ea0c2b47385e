export * from './prune-expired-records.usecase';
export * from './retention-sweeper';
export { DEFAULT_RETENTION, type RetentionPolicy } from '../core/rules/retention';
