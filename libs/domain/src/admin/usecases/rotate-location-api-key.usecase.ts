import { apiKeyAad } from '@app/db';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { isLocationProtocol } from '@app/contracts';
import { checkProtocolCredentials, registersCapabilities } from '../location-rules';

/**
 * Replaces a location's secret (stored encrypted), checked by the rules of its
 * protocol: the Dojo API key, or Connect's token. The gateway reconnects with
 * it at once.
 */
export class RotateLocationApiKey {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, apiKey: string): Promise<LocationView> {
    const cur = await this.d.locations.get(id);
    if (!cur) throw DomainError.notFound('location', id);
    const protocol = isLocationProtocol(cur.protocol) ? cur.protocol : 'epos-data';
    const settings = (cur.protocolSettings ?? {}) as Record<string, never>;
    // The stored settings pass their own check again; only the key's field errors can come out.
    const { environment } = checkProtocolCredentials({
      protocol,
      apiKey,
      dojoAccountId: cur.dojoAccountId,
      ...(protocol === 'dojo-tables' ? { dojoTables: settings } : protocol === 'connect-pat' ? { connectPat: settings } : protocol === 'connect-pac' ? { connectPac: settings } : {}),
    });
    const row = await this.d.locations.update(id, {
      apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(apiKey, apiKeyAad(id))),
      apiKeyLast4: apiKey.slice(-4),
      environment,
      bumpConfigVersion: true,
    });
    if (!row) throw DomainError.notFound('location', id);
    await this.d.publisher.publishChanged(id, row.configVersion);
    // A registration that failed (for instance on the old key) is tried again with the new one.
    if (registersCapabilities(row.protocol) && row.registrationState !== 'registered') await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}
