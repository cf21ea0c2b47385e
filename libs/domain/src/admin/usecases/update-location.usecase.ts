import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { locationUrlProblems, normaliseCapabilities, registersCapabilities } from '../location-rules';

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export interface UpdateLocationInput {
  name?: string;
  resellerId?: string | null;
  wsUrl?: string | null;
  restUrl?: string | null;
  currency?: string;
  capabilities?: string[];
  enabled?: boolean;
}

/**
 * Changes a location. Changes the gateway acts on (URLs, capabilities, enabled)
 * bump config_version and are published after the commit; a changed capability
 * set, or a changed restUrl (another Dojo), is registered with Dojo again from
 * nothing (`pending`, attempts 0).
 */
export class UpdateLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, input: UpdateLocationInput): Promise<LocationView> {
    const capabilities = input.capabilities === undefined ? undefined : normaliseCapabilities(input.capabilities);
    const result = await this.d.locations.transaction(async (locations) => {
      // Locked: a key rotation or protocol switch running meanwhile may change the environment the URLs are checked for.
      const cur = await locations.getForChange(id);
      if (!cur) throw DomainError.notFound('location', id);
      // The request schema refused credentials in the URLs; a production location's must also use TLS.
      const urlErrors = locationUrlProblems({ wsUrl: input.wsUrl, restUrl: input.restUrl }, cur.environment === 'production' ? 'production' : 'sandbox');
      if (urlErrors.length) throw DomainError.invalid(urlErrors);
      const capsChanged = capabilities !== undefined && !sameSet(capabilities, cur.capabilities);
      const restUrlChanged = input.restUrl !== undefined && input.restUrl !== cur.restUrl;
      // A new set, or another Dojo to register it with (the old one's registration counts for nothing there).
      const registers = (capsChanged || restUrlChanged) && registersCapabilities(cur.protocol);
      const gatewayChanged =
        capsChanged ||
        (input.wsUrl !== undefined && input.wsUrl !== cur.wsUrl) ||
        restUrlChanged ||
        (input.resellerId !== undefined && input.resellerId !== cur.resellerId) ||
        (input.enabled !== undefined && input.enabled !== cur.enabled);
      const row = await locations.update(id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.resellerId !== undefined ? { resellerId: input.resellerId } : {}),
        ...(input.wsUrl !== undefined ? { wsUrl: input.wsUrl } : {}),
        ...(input.restUrl !== undefined ? { restUrl: input.restUrl } : {}),
        ...(input.currency !== undefined ? { currency: input.currency } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(capsChanged ? { capabilities } : {}),
        ...(registers ? { registrationState: 'pending', registrationError: null, registrationAttempts: 0 } : {}),
        ...(gatewayChanged ? { bumpConfigVersion: true } : {}),
      });
      if (!row) throw DomainError.notFound('location', id);
      return { row, registers, gatewayChanged };
    });
    if (result.gatewayChanged) await this.d.publisher.publishChanged(id, result.row.configVersion);
    if (result.registers) await this.d.registration.schedule(id, { now: true });
    return toLocationView(result.row);
  }
}
