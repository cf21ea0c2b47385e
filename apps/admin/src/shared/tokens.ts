/** Injection tokens of the admin app. */
export const ADMIN_DEPS = Symbol('ADMIN_DEPS');
export const VENUE_DEPS = Symbol('VENUE_DEPS');

/** What the venue guard attaches to the request. */
export interface VenueAuth {
  locationId: string;
  tokenId: string;
}

/** Dependencies of the dead-letter use-cases (DeadLetterDeps). */
export const DEAD_LETTER_DEPS = Symbol('DEAD_LETTER_DEPS');

/** Dependencies of the venue API's payment-intent use-cases (PaymentIntentDeps). */
export const PAYMENT_INTENT_DEPS = Symbol('PAYMENT_INTENT_DEPS');

/** Dependencies of the venue API's pay-at-counter use-cases (CounterDeps). */
export const COUNTER_DEPS = Symbol('COUNTER_DEPS');
