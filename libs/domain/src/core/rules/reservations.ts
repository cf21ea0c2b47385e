/** A reservation's window: it ends after it starts. */
export function isValidReservationWindow(startTime: Date, endTime: Date): boolean {
  return endTime.getTime() > startTime.getTime();
}
