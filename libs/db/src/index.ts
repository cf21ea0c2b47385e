export * from './prisma';
export * from './sql-runner';
export * from './migrator';
export * from './databases';
export * from './secret-box';
export { Prisma, PrismaClient } from './generated/prisma/client';
export * from './generated/prisma/enums';
export * from './drift/schema-shape';
export * from './change-feed';
