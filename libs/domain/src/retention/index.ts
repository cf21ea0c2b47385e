export * from './prune-expired-records.usecase';
export * from './retention-sweeper';
