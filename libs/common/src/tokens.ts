/** Nest injection tokens for infrastructure shared by every app. */
export const CONFIG = Symbol('CONFIG');
export const PRISMA = Symbol('PRISMA');
export const REDIS = Symbol('REDIS');
export const LOGGER = Symbol('LOGGER');
export const SECRET_BOX = Symbol('SECRET_BOX');
export const APP_NAME = Symbol('APP_NAME');
/** The app's HealthRegistry: extra indicators GET /health reports (see health.ts). */
export const HEALTH = Symbol('HEALTH');
