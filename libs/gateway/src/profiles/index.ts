import { ConnectPacProfile } from './connect-pac.profile';
import { ConnectPatProfile } from './connect-pat.profile';
import type { ConnectionProfile } from './connection-profile';
import { DojoTablesProfile } from './dojo-tables.profile';
import { EposDataProfile } from './epos-data.profile';

export * from './connection-profile';
export * from './epos-data.profile';
export * from './dojo-tables.profile';
export * from './connect-pat.profile';
export * from './connect-pac.profile';

/** Profiles by protocol name; a new protocol's link is one more entry here (see docs/architecture.md "Adding a protocol"). */
export function defaultProfiles(): Map<string, ConnectionProfile> {
  const profiles: ConnectionProfile[] = [new EposDataProfile(), new DojoTablesProfile(), new ConnectPatProfile(), new ConnectPacProfile()];
  return new Map(profiles.map((p) => [p.name, p]));
}
