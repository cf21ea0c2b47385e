/**
 * Applies prisma/migrations to DATABASE_URL (creating the database when missing).
 * Equivalent to `prisma migrate deploy`, which needs Prisma's schema engine.
 */
import { ensureDatabase, migrate } from '@app/db';
import { redact } from '@app/infra';

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  await ensureDatabase(url);
  const r = await migrate(url, undefined, {
    onLockRetry: (name, attempt, waitMs) => console.log(`${name}: a table it changes is busy (waited for its lock); trying again in ${waitMs} ms (attempt ${attempt})`),
  });
  console.log(`${redact(url)}: applied ${r.applied.length} (${r.applied.join(', ') || 'none'}), already applied ${r.alreadyApplied.length}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
