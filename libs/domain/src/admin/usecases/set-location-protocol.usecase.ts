import { apiKeyAad } from '@app/db';
import type { ConnectPacSettings, ConnectPatSettings, DojoTablesSettings, LocationProtocol } from '@app/contracts';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView } from '../location-view';
import { toLocationView } from '../location-view';
import { checkProtocolCredentials, registersCapabilities, settingsKept, urlsAfterProtocolSet } from '../location-rules';

export interface SetLocationProtocolInput {
  protocol: LocationProtocol;
  /** The new protocol's secret; may be omitted only when the protocol stays the same (settings change). */
  apiKey?: string;
  dojoTables?: Partial<DojoTablesSettings> | null;
  connectPat?: Partial<ConnectPatSettings> | null;
  connectPac?: Partial<ConnectPacSettings> | null;
  /**
   * The socket the new protocol dials (null: its profile's default). Left out, a switch clears the stored one (the
   * old protocol's endpoint) and a change within the protocol keeps it.
   */
  wsUrl?: string | null;
  /** Dojo's REST API (epos-data only; null: DOJO_API_URL). Left out as wsUrl is. */
  restUrl?: string | null;
}

/**
 * Switches a location to a protocol (or changes its protocol's settings): the
 * credentials are checked by the new protocol's rules and stored (the secret
 * encrypted), config_version is bumped so the gateway re-dials with the new
 * profile at once. A switch takes the new protocol's settings as given (their
 * defaults for what is left out); a change within the same protocol changes
 * only the settings it names and keeps the others (settingsKept), as the key
 * is kept when left out. A switch also clears the location's wsUrl and
 * restUrl unless given (urlsAfterProtocolSet). Only the location row changes: the venue's tables, orders,
 * payments, locks and feed stay as they are, whichever dialect serves them.
 * Switching to epos-data, or a new key on epos-data, schedules a capability
 * registration from nothing; switching away marks it not required. A switch
 * to connect-pac is refused (409 counter_link_exists) while the location has a
 * counter link beside its protocol: the operator deletes the link first.
 */
export class SetLocationProtocol {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, input: SetLocationProtocolInput): Promise<LocationView> {
    const result = await this.d.locations.transaction(async (locations) => {
      const cur = await locations.getForChange(id);
      if (!cur) throw DomainError.notFound('location', id);
      const same = cur.protocol === input.protocol;
      // A connect-pac location's counter is its protocol: a link beside the old protocol would stay stored, unseen and
      // not deletable (409 counter_is_protocol), and come back, dialled with its old token, on a later switch away.
      if (input.protocol === 'connect-pac' && !same && (await locations.counterLinkToken(id)) !== null) {
        throw DomainError.conflict(
          'this location has a pay-at-counter link beside its protocol: delete it first (DELETE /v1/locations/{id}/counter-link), then switch to connect-pac with its settings',
          { error: 'counter_link_exists' },
        );
      }
      let apiKey = input.apiKey;
      if (apiKey === undefined) {
        if (!same) throw DomainError.invalid([{ field: 'apiKey', reason: `is required when switching from ${cur.protocol} to ${input.protocol}` }]);
        const creds = await locations.credentials(id);
        apiKey = this.d.secretBox.decrypt(creds!.apiKeyCiphertext, apiKeyAad(id));
      }
      // The same protocol: the given settings change only the fields they name; a new one starts from its defaults.
      const settings = same ? settingsKept(input.protocol, cur.protocolSettings, input) : {};
      const checked = checkProtocolCredentials({ ...input, ...settings, apiKey, dojoAccountId: cur.dojoAccountId });
      // A switch dials the new protocol's default unless given a URL: the old endpoint must not get the new secret.
      // URLs kept or given must use TLS if the location is (or becomes) production: its secret is sent over them.
      const { urls, errors: urlErrors } = urlsAfterProtocolSet(cur, input, { same, protocol: checked.protocol, environment: checked.environment });
      if (urlErrors.length) throw DomainError.invalid(urlErrors);
      const registers = registersCapabilities(checked.protocol);
      // A new key or Dojo URL within epos-data starts the registration again too, as a key rotation or a PATCH does:
      // a `failed` one would stay failed (the sweep only picks up `pending`), a registered one would stay on the old
      // key's account or the old Dojo.
      const restarts = registers && (!same || input.apiKey !== undefined || urls.restUrl !== cur.restUrl);
      const row = await locations.update(id, {
        protocol: checked.protocol,
        wsUrl: urls.wsUrl,
        restUrl: urls.restUrl,
        protocolSettings: checked.settings as Record<string, string | boolean | number>,
        environment: checked.environment,
        ...(input.apiKey !== undefined
          ? { apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(input.apiKey, apiKeyAad(id))), apiKeyLast4: input.apiKey.slice(-4) }
          : {}),
        ...(restarts ? { registrationState: 'pending', registrationError: null, registrationAttempts: 0 } : same || registers ? {} : { registrationState: 'not_required', registrationError: null }),
        bumpConfigVersion: true,
      });
      if (!row) throw DomainError.notFound('location', id);
      return { row, register: restarts };
    });
    await this.d.publisher.publishChanged(id, result.row.configVersion);
    if (result.register) await this.d.registration.schedule(id, { now: true });
    return toLocationView(result.row);
  }
}
