import { uuidOrUndefined } from '@app/common';

/**
 * The location an admin route is about, for its log lines: the venue API's `:locationId`, or the operator API's
 * `:id` under `/v1/locations/:id` (elsewhere `:id` is a software house, a dead letter or a terminal transaction).
 * Only a UUID is taken.
 */
export function locationOfAdminRoute(params: Record<string, unknown>, route: string): string | undefined {
  if (params.locationId !== undefined) return uuidOrUndefined(params.locationId);
  return route.startsWith('/v1/locations/:id') ? uuidOrUndefined(params.id) : undefined;
}
