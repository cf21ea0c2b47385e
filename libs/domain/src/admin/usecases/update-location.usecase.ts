import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { normaliseCapabilities, registersCapabilities } from '../location-rules';

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
 * set is registered with Dojo again.
 */
export class UpdateLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, input: UpdateLocationInput): Promise<LocationView> {
    const capabilities = input.capabilities === undefined ? undefined : normaliseCapabilities(input.capabilities);
    const result = await this.d.locations.transaction(async (locations) => {
      const cur = await locations.get(id);
      if (!cur) throw DomainError.notFound('location', id);
      const capsChanged = capabilities !== undefined && !sameSet(capabilities, cur.capabilities);
      const gatewayChanged =
        capsChanged ||
        (input.wsUrl !== undefined && input.wsUrl !== cur.wsUrl) ||
        (input.restUrl !== undefined && input.restUrl !== cur.restUrl) ||
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
        ...(capsChanged && registersCapabilities(cur.protocol) ? { registrationState: 'pending', registrationError: null, registrationAttempts: 0 } : {}),
        ...(gatewayChanged ? { bumpConfigVersion: true } : {}),
      });
      if (!row) throw DomainError.notFound('location', id);
      return { row, capsChanged: capsChanged && registersCapabilities(cur.protocol), gatewayChanged };
    });
    if (result.gatewayChanged) await this.d.publisher.publishChanged(id, result.row.configVersion);
    if (result.capsChanged) await this.d.registration.schedule(id, { now: true });
    return toLocationView(result.row);
  }
}
