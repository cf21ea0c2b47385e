export * from './stack';
export * from './ports';
export { PostgresProcess, PostgresSetupError, NON_DURABLE_ENV, removeStaleDataDirs } from './postgres-process';
export { stopChild } from './child';
export { RedisProcess, findRedisServer } from './redis-process';
export * from './paths';
