import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export interface PrismaOptions {
  /** Pool size (pg's default of 10 when omitted). */
  poolSize?: number;
  /** How long a query waits for a pooled connection before failing. Prisma 7 over pg sets none by default. */
  acquireTimeoutMs?: number;
}


export function createPrisma(databaseUrl: string, opts: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  return new PrismaClient({ adapter });
}
