import { apiKeyAad } from '@app/db';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { toLocationView } from '../location-view';
import { isLocationProtocol } from '@app/contracts';
import { checkProtocolCredentials, keptUrlTlsProblems, registersCapabilities, settingsKept } from '../location-rules';
import type { LocationRow } from '../../repositories/locations.repository';

/**
 * Replaces a location's secret (stored encrypted), checked by the rules of its
 * protocol: the Dojo API key, or Connect's token. The gateway reconnects with
 * it at once; an epos-data location's registration goes back to `pending`
 * (attempts 0) and is scheduled now.
 */
export class RotateLocationApiKey {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, apiKey: string): Promise<LocationView> {
    // Checked and written under the location's row lock: a protocol switch meanwhile would otherwise leave this key,
    // checked by the old protocol's rules, under the new protocol (or the new protocol's key replaced by this one).
    const { row, registers } = await this.d.locations.transaction(async (locations) => {
      const cur = await locations.getForChange(id);
      if (!cur) throw DomainError.notFound('location', id);
      return this.rotate(locations, id, cur, apiKey);
    });
    await this.d.publisher.publishChanged(id, row.configVersion);
    if (registers) await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }

  private async rotate(locations: AdminDeps['locations'], id: string, cur: LocationRow, apiKey: string) {
    const protocol = isLocationProtocol(cur.protocol) ? cur.protocol : 'epos-data';
    // The stored settings pass their own check again; only the key's field errors can come out.
    const { environment } = checkProtocolCredentials({ protocol, apiKey, dojoAccountId: cur.dojoAccountId, ...settingsKept(protocol, cur.protocolSettings) });
    // A sandbox location given a production key keeps its URLs only if they are TLS: the key is sent over them.
    const urlErrors = keptUrlTlsProblems(cur, environment);
    if (urlErrors.length) throw DomainError.invalid(urlErrors);
    // The registration starts again from nothing with the new key, as after a capability change or a re-sync: a
    // `failed` one (a dead letter, often the old key's refusal) would otherwise stay failed, since the worker's sweep
    // only picks up `pending` locations, and a registered one is confirmed with the key the gateway now uses.
    const registers = registersCapabilities(cur.protocol);
    const row = await locations.update(id, {
      apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(apiKey, apiKeyAad(id))),
      apiKeyLast4: apiKey.slice(-4),
      environment,
      ...(registers ? { registrationState: 'pending', registrationError: null, registrationAttempts: 0 } : {}),
      bumpConfigVersion: true,
    });
    if (!row) throw DomainError.notFound('location', id);
    return { row, registers };
  }
}
