import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@app/db';
import { cloneDatabase, createPrisma, dropDatabase } from '@app/db';
import { SecretBox } from '@app/db';

/** Name of the migrated database each test file clones. */
export const TEMPLATE_DB = 'epos_template';

function required(name: string): string {
  const v = process.env[name];
  if (!v && process.env.EPOS_TEST_TIER === 'unit') {
    throw new Error(`${name} is not set: this is the unit tier (npm run test:unit), which starts no Postgres or Redis; a test that needs them belongs in test/integration`);
  }
  if (!v) throw new Error(`${name} is not set: run tests through \`npm test\` (test/run-tests.ts), which starts Postgres and Redis`);
  return v;
}

export function testRedisUrl(): string {
  return required('EPOS_TEST_REDIS_URL');
}

export interface TestDatabase {
  url: string;
  name: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file (a copy of the template), dropped by drop(). */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const server = required('EPOS_TEST_DATABASE_URL');
  const name = `t_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(5).toString('hex')}`;
  const url = await cloneDatabase(server, TEMPLATE_DB, name);
  const prisma = createPrisma(url, { poolSize: 5 });
  return {
    url,
    name,
    prisma,
    drop: async () => {
      await prisma.$disconnect();
      await dropDatabase(server, name);
    },
  };
}

/** A unique prefix for BullMQ keys and Redis channels, so test files sharing one Redis never meet. */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

export const TEST_ENCRYPTION_KEY = SecretBox.developmentKey();

/** Environment for booting an app against a test database and Redis. */
export function appEnv(db: TestDatabase, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: db.url,
    REDIS_URL: testRedisUrl(),
    EPOS_RELAY_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    PORT: '0',
    ...extra,
  };
}
