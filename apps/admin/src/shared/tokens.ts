/** Injection tokens of the admin app. */
export const ADMIN_DEPS = Symbol('ADMIN_DEPS');
export const VENUE_DEPS = Symbol('VENUE_DEPS');

/** What the venue guard attaches to the request. */
export interface VenueAuth {
  locationId: string;
  tokenId: string;
}
