import type { Prisma, PrismaClient } from '@app/db';

/** A Prisma client or an interactive transaction client: repositories accept either. */
export type Tx = Prisma.TransactionClient | PrismaClient;
