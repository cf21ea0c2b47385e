export * from './logger';
export * from './tokens';
export * from './redis';
export * from './health';
export * from './core.module';
export * from './bootstrap';
export * from './http-limits';
export * from './metrics';
