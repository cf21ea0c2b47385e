import type { DojoClient } from '@app/dojo-client';
import { dojoCapturedAmount } from '../core/rules';
import type { DojoIntentReader } from '../events/usecases/apply-dojo-event.usecase';
import type { DojoCredentialsSource } from './ports';

/**
 * The events pipeline's read of an online intent from Dojo (GET
 * /payment-intents/{id}, ApplyDojoEvent's dojoIntents): its tips, refunded
 * amount and what its successful captures took (null when the answer has no
 * `captures`), in minor units.
 */
export function dojoIntentReader(dojo: DojoClient, credentials: DojoCredentialsSource): DojoIntentReader {
  return {
    read: async (locationId, paymentIntentId) => {
      const pi = await dojo.getPaymentIntent(await credentials.forLocation(locationId), paymentIntentId);
      return { tipsAmount: BigInt(pi.tipsAmount?.value ?? 0), refundedAmount: BigInt(pi.refundedAmount ?? 0), capturedAmount: dojoCapturedAmount(pi.captures) };
    },
  };
}
