import type { Logger } from '@app/common';
import type { PrismaClient } from '@app/db';
import type { DojoClient, DojoCredentials } from '@app/dojo-client';

/** A location's Dojo credentials (its API key decrypted), for a call made on its behalf. */
export interface DojoCredentialsSource {
  forLocation(locationId: string): Promise<DojoCredentials>;
}

/** What the payment-intent use-cases need. The client is only handed to runInTransaction and repositories. */
export interface PaymentIntentDeps {
  prisma: PrismaClient;
  dojo: DojoClient;
  credentials: DojoCredentialsSource;
  /** The checkout page's base: https://pay.dojo.tech/checkout, or the sandbox's own (DOJO_CHECKOUT_URL). */
  checkoutBase: string;
  /** The reconciler's first look at an intent after it is created or acted on (PAYMENT_INTENT_CHECK_AFTER_MS). */
  firstCheckAfterMs: number;
  log: Logger;
}
