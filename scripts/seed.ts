/** Seeds the demo software house and venue into DATABASE_URL (idempotent). */
import { loadConfig } from '@app/config';
import { z } from 'zod';
import { env } from '@app/config';
import { createPrisma, SecretBox } from '@app/db';
import { seedDemoVenue } from '@app/domain';

async function main() {
  const c = loadConfig({
    DATABASE_URL: env.url(['postgres', 'postgresql']),
    EPOS_RELAY_ENCRYPTION_KEY: env.key32(),
    DEMO_WS_URL: env.url(['ws', 'wss']).optional(),
    DEMO_REST_URL: env.url(['http', 'https']).optional(),
    DEMO_API_KEY: z.string().regex(/^sk_(sandbox|prod)_/, 'must start with sk_sandbox_ or sk_prod_').optional(),
  });
  const prisma = createPrisma(c.DATABASE_URL);
  try {
    const r = await seedDemoVenue(prisma, new SecretBox(c.EPOS_RELAY_ENCRYPTION_KEY), {
      wsUrl: c.DEMO_WS_URL,
      restUrl: c.DEMO_REST_URL,
      apiKey: c.DEMO_API_KEY,
    });
    console.log(`demo venue ${r.accountId} (location ${r.locationId}) seeded`);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
