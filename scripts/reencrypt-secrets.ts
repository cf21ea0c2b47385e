/**
 * Key rotation's last step (docs/operations.md "Rotating EPOS_RELAY_ENCRYPTION_KEY"):
 * rewrites every stored Dojo API key and webhook secret under the current
 * EPOS_RELAY_ENCRYPTION_KEY, reading older ones with EPOS_RELAY_ENCRYPTION_KEYS_OLD.
 * Safe to run while the platform serves, and to run again. A secret that no key of
 * the ring decrypts is skipped and listed at the end (location, kind, id; never the
 * secret); the run then exits 2.
 *   npm run secrets:reencrypt      (DATABASE_URL, EPOS_RELAY_ENCRYPTION_KEY, EPOS_RELAY_ENCRYPTION_KEYS_OLD)
 */
import { env, loadConfig } from '@app/config';
import { commonEnv } from '@app/config';
import { createPrisma, SecretBox } from '@app/db';
import { LocationsRepository, ReencryptSecrets } from '@app/domain/admin';

async function main() {
  const c = loadConfig({
    DATABASE_URL: env.url(['postgres', 'postgresql']),
    EPOS_RELAY_ENCRYPTION_KEY: env.key32(),
    EPOS_RELAY_ENCRYPTION_KEYS_OLD: commonEnv.EPOS_RELAY_ENCRYPTION_KEYS_OLD,
  });
  const prisma = createPrisma(c.DATABASE_URL, { poolSize: 2 });
  try {
    const box = new SecretBox(c.EPOS_RELAY_ENCRYPTION_KEY, c.EPOS_RELAY_ENCRYPTION_KEYS_OLD);
    const r = await new ReencryptSecrets(new LocationsRepository(prisma), box).execute();
    console.log(`re-encrypted ${r.reencrypted}, already under the current key ${r.current}, changed meanwhile ${r.raced}, unreadable ${r.unreadable.length}`);
    if (r.unreadable.length > 0) {
      console.error(`${r.unreadable.length} stored secret(s) no key of the ring decrypts, left as they are (docs/operations.md, "Rotating EPOS_RELAY_ENCRYPTION_KEY"):`);
      for (const u of r.unreadable) {
        const which = u.kind === 'webhook-secret' ? `webhook-secret ${u.secretId} (${u.state})` : u.kind;
        console.error(`  unreadable: location ${u.locationId} ${which}: ${u.reason}`);
      }
      process.exitCode = 2;
    }
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
