import type { Prisma, PrismaClient } from '@app/db';

/** Runs fn in one interactive transaction; repositories built on `tx` share it. */
export async function runInTransaction<T>(prisma: PrismaClient, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return prisma.$transaction(fn);
}
