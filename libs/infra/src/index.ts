export * from './stack';
export * from './ports';
export { PostgresProcess } from './postgres-process';
export { RedisProcess, findRedisServer } from './redis-process';
export * from './paths';
