import type { ConnectPacSettings } from '@app/contracts';
import { redactUrl } from '@app/contracts';
import { counterTokenAad } from '@app/db';
import { DomainError } from '../errors';
import { checkConnectPacSettings, locationUrlProblems, urlTlsProblem } from '../location-rules';
import type { AdminDeps } from '../ports';

export interface SetCounterLinkInput extends Partial<ConnectPacSettings> {
  /** Connect's token for the site; required when the location has no counter link yet. */
  token?: string;
  wsUrl?: string | null;
  enabled?: boolean;
}

/** A counter link as the operator API shows it: settings and the token's last four characters, never the token. */
export interface CounterLinkView {
  locationId: string;
  via: 'protocol' | 'link';
  settings: ConnectPacSettings;
  tokenLast4: string;
  wsUrl: string | null;
  enabled: boolean;
}

const URL_SAFE_SECRET = /^[A-Za-z0-9._~-]{8,200}$/;

/**
 * SetCounterLink (PUT /v1/locations/{id}/counter-link): a pay-at-counter
 * link beside the location's own protocol (EPOS Data, Tables API or Connect
 * PAT): its Connect host, installer id, signature default and token
 * (encrypted, bound to the location). Bumps config_version and announces the
 * change, so the owning gateway dials it at once. 409 on a connect-pac
 * location (its PAC settings are its protocol's: PUT .../protocol).
 */
export class SetCounterLink {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, input: SetCounterLinkInput): Promise<CounterLinkView> {
    const errors: { field: string; reason: string }[] = [];
    const settings = checkConnectPacSettings(input, 'body', errors);
    for (const e of errors) e.field = e.field.replace(/^body\./, '');
    if (input.token !== undefined && !URL_SAFE_SECRET.test(input.token)) errors.push({ field: 'token', reason: 'must be the Connect API key (token): 8-200 of A-Z a-z 0-9 . _ ~ -' });
    // The link's token is sent in its URL's query: no credentials of its own in it, and TLS for a production link.
    const environment = settings.environment === 'test' ? 'sandbox' : 'production';
    errors.push(...locationUrlProblems({ wsUrl: input.wsUrl }, environment));
    if (errors.length) throw DomainError.invalid(errors);
    const out = await this.d.locations.transaction(async (locations) => {
      // Locked: a protocol switch to connect-pac meanwhile (which refuses a location with a link) must not miss this one.
      const cur = await locations.getForChange(id);
      if (!cur) throw DomainError.notFound('location', id);
      if (cur.protocol === 'connect-pac') {
        throw DomainError.conflict('this location speaks connect-pac: its pay-at-counter settings are its protocol settings (PUT /v1/locations/{id}/protocol)', { error: 'counter_is_protocol' });
      }
      const existing = await locations.counterLinkToken(id);
      if (!existing && input.token === undefined) throw DomainError.invalid([{ field: 'token', reason: 'is required for a new counter link' }]);
      const tokenCiphertext = input.token !== undefined ? new Uint8Array(this.d.secretBox.encrypt(input.token, counterTokenAad(id))) : existing!;
      const prev = await locations.counterLink(id);
      // A link moved to production keeps its stored URL only if that URL is TLS.
      const keptUrlProblem = input.wsUrl === undefined && prev?.wsUrl ? urlTlsProblem(prev.wsUrl, environment) : undefined;
      if (keptUrlProblem) {
        throw DomainError.invalid([{ field: 'wsUrl', reason: `the stored wsUrl ${keptUrlProblem} (environment ${settings.environment}${input.environment === undefined ? ', the default' : ''}): send a wss: wsUrl (or null) with it, or environment test` }]);
      }
      await locations.saveCounterLink(id, {
        settings,
        tokenCiphertext,
        tokenLast4: input.token !== undefined ? input.token.slice(-4) : (prev?.tokenLast4 ?? ''),
        wsUrl: input.wsUrl === undefined ? (prev?.wsUrl ?? null) : input.wsUrl,
        enabled: input.enabled ?? prev?.enabled ?? true,
      });
      const row = await locations.update(id, { bumpConfigVersion: true });
      return { configVersion: row!.configVersion, link: (await locations.counterLink(id))! };
    });
    await this.d.publisher.publishChanged(id, out.configVersion);
    return counterLinkView(id, out.link);
  }
}

export function counterLinkView(locationId: string, l: { via: 'protocol' | 'link'; settings: ConnectPacSettings; tokenLast4: string; wsUrl: string | null; enabled: boolean }): CounterLinkView {
  // The URL may carry a secret (a token in its query, a password before its host): shown redacted, as a location's are.
  return { locationId, via: l.via, settings: l.settings, tokenLast4: l.tokenLast4, wsUrl: l.wsUrl === null ? null : redactUrl(l.wsUrl), enabled: l.enabled };
}

/**
 * DeleteCounterLink (DELETE /v1/locations/{id}/counter-link): removes the link beside the protocol; 404 without a
 * link. On a connect-pac location it removes a link left beside it (switched to connect-pac before such switches were
 * refused: unseen, it would come back on a switch away) and is 409 counter_is_protocol otherwise.
 */
export class DeleteCounterLink {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<void> {
    const configVersion = await this.d.locations.transaction(async (locations) => {
      const cur = await locations.getForChange(id);
      if (!cur) throw DomainError.notFound('location', id);
      const deleted = await locations.deleteCounterLink(id);
      if (!deleted && cur.protocol === 'connect-pac') throw DomainError.conflict('this location speaks connect-pac: switch its protocol instead', { error: 'counter_is_protocol' });
      if (!deleted) throw DomainError.notFound('counter link of location', id);
      return (await locations.update(id, { bumpConfigVersion: true }))!.configVersion;
    });
    await this.d.publisher.publishChanged(id, configVersion);
  }
}

/** GetCounterLink (GET /v1/locations/{id}/counter-link): the location's PAC link (its protocol's or beside it), 404 without one. */
export class GetCounterLink {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<CounterLinkView> {
    const l = await this.d.locations.counterLink(id);
    if (!l) throw DomainError.notFound('counter link of location', id);
    return counterLinkView(id, l);
  }
}
