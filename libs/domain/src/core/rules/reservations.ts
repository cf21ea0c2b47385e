/** A reservation's window: it ends after it starts. */
export function isValidReservationWindow(startTime: Date, endTime: Date): boolean {
  return endTime.getTime() > startTime.getTime();
}

/**
 * The fields of a stored reservation that a venue's replace (a PUT over the row) leaves as they are, whatever its
 * body says: `guestRequests`, the guest's own requests, which Dojo sets and Dojo's contract says the EPOS partner may
 * not edit (as a party's: partyFieldsKeptByVenueReplace). A create takes the body's.
 */
export const RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE: readonly 'guestRequests'[] = ['guestRequests'];
