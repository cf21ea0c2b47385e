import type { ConnectionProfile } from './connection-profile';
import { EposDataProfile } from './epos-data.profile';

export * from './connection-profile';
export * from './epos-data.profile';

/** Profiles by name; a new Dojo-family link is one more entry here. */
export function defaultProfiles(): Map<string, ConnectionProfile> {
  const p = new EposDataProfile();
  return new Map([[p.name, p]]);
}
