// epos-relay operator console: plain JS, no build step. The operator token lives
// in sessionStorage (this tab only) and travels in the Authorization header and
// the WebSocket's first message, never in a URL.
'use strict';
(function () {
  const TOKEN_KEY = 'epos-relay.console.token';
  const $ = (id) => document.getElementById(id);
  const fleet = new Map(); // id -> item
  let ws = null;
  let wsRetry = 0;
  let current = null; // id of the open location
  let currentLoaded = null;
  let currentErrors = null; // errors in the last 5 minutes, from the location's request record
  // How many Dojo events and outbox rows the page shows (newest first); "Show more" adds a page, up to the API's 500.
  const PAGE = 50;
  let eventsLimit = PAGE;
  let outboxLimit = PAGE;

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function time(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return el('time', { datetime: iso, title: iso }, d.toLocaleTimeString([], { hour12: false }) + (Date.now() - d.getTime() > 86400000 ? ' ' + d.toLocaleDateString() : ''));
  }
  // An amount in minor units, in the currency's own unit: its number of minor digits (0 for JPY, 3 for KWD) as the
  // browser's Intl knows it; 2 for a code it cannot format.
  function money(minor, currency) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      // not a well-formed currency code
    }
    return (Number(minor) / 10 ** digits).toFixed(digits) + ' ' + currency;
  }
  function stateBadge(state) {
    return el('span', { class: 'state state-' + state }, state);
  }
  // The status line is a live region: only the state of live updates goes there (announced when it changes);
  // the time of the last update sits beside it, outside the region, so screen readers are not told every poll.
  function setLive(text) {
    if ($('live').textContent !== text) $('live').textContent = text;
    if (!/^Live/.test(text)) $('updated').textContent = '';
  }
  function setUpdated(at) {
    $('updated').textContent = '· updated ' + new Date(at).toLocaleTimeString([], { hour12: false });
  }
  // A snapshot or update carries `stale` while the admin cannot read the live states (they show as unknown):
  // the page says it is not live until an update without it arrives.
  function setLiveness(data) {
    if (data.stale) {
      setLive('Not live: ' + data.stale);
    } else {
      setLive('Live');
      setUpdated(data.at);
    }
  }

  // ---- API -----------------------------------------------------------------
  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: Object.assign({ authorization: 'Bearer ' + token() }, body !== undefined ? { 'content-type': 'application/json' } : {}),
      body: body !== undefined ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
    if (res.status === 401) {
      signOut('Your operator token was refused; sign in again.');
      throw Object.assign(new Error('unauthorized'), { status: 401 });
    }
    return { status: res.status, ok: res.ok, body: data };
  }

  // ---- sign in / out ---------------------------------------------------------
  async function signIn(ev) {
    ev.preventDefault();
    const value = $('token').value.trim();
    $('signin-error').textContent = '';
    if (!value) return;
    const res = await fetch('/v1/locations?limit=1', { headers: { authorization: 'Bearer ' + value }, cache: 'no-store' });
    if (res.status !== 200) {
      $('signin-error').textContent = res.status === 401 ? 'That operator token is not valid.' : 'Sign-in failed (HTTP ' + res.status + ').';
      $('token').focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token').value = '';
    connect();
    route();
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (ws) { ws.onclose = null; ws.close(1000, 'signed out'); ws = null; }
    fleet.clear();
    $('fleet-table').tBodies[0].replaceChildren();
    setLive('Not signed in');
    if (location.hash !== '#/') history.replaceState(null, '', '#/');
    route();
    if (message) $('signin-error').textContent = message;
  }

  // ---- live fleet over the WebSocket -----------------------------------------
  function connect() {
    if (!token() || ws) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const sock = new WebSocket(proto + '//' + location.host + '/console/ws');
    ws = sock;
    setLive('Connecting to live updates…');
    sock.onopen = () => sock.send(JSON.stringify({ event: 'auth', data: { token: token() } }));
    sock.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.event === 'snapshot') {
        wsRetry = 0;
        fleet.clear();
        for (const it of msg.data.items) fleet.set(it.id, it);
        setLiveness(msg.data);
        renderFleet();
        renderSummary();
      } else if (msg.event === 'update') {
        for (const it of msg.data.items) fleet.set(it.id, it);
        for (const id of msg.data.removed || []) fleet.delete(id);
        setLiveness(msg.data);
        renderFleet();
        if (current && msg.data.items.some((i) => i.id === current)) {
          renderSummary();
          refreshRequests();
        }
      } else if (msg.event === 'error') {
        setLive('Live updates: ' + msg.data.message);
      }
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      if (e.code === 4401) { signOut('Your operator token was refused; sign in again.'); return; }
      if (!token()) return;
      const delay = Math.min(30000, 1000 * 2 ** wsRetry++);
      setLive('Live updates lost; retrying in ' + Math.round(delay / 1000) + ' s');
      setTimeout(connect, delay);
    };
  }

  // ---- fleet view ------------------------------------------------------------
  function filtered() {
    const q = $('search').value.trim().toLowerCase();
    const st = $('state-filter').value;
    const proto = $('protocol-filter').value;
    return [...fleet.values()]
      .filter((i) => !q || i.name.toLowerCase().includes(q) || i.dojoAccountId.toLowerCase().includes(q))
      .filter((i) => !st || (st === 'dark' ? i.state !== 'open' : i.state === st))
      .filter((i) => !proto || i.protocol === proto)
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }
  function renderFleet() {
    const items = filtered();
    const rows = items.map((i) =>
      el('tr', { 'data-location-id': i.id, 'data-state': i.state },
        el('td', {}, el('a', { href: '#/locations/' + i.id }, i.name)),
        el('td', {}, i.dojoAccountId),
        el('td', {}, i.protocol),
        el('td', i.lastError ? { title: i.lastError } : {}, stateBadge(i.state)),
        el('td', {}, i.replicaId || '—'),
        el('td', {}, time(i.since)),
        el('td', {}, time(i.lastPongAt)),
        el('td', { class: 'num' }, i.reconnects),
        el('td', { class: 'num' }, i.requestsServed),
        el('td', { class: 'num' + (i.errorsLast5m ? ' outcome-error' : '') }, i.errorsLast5m),
      ),
    );
    // Keep keyboard focus on the same link across live re-renders.
    const focusedId = document.activeElement && document.activeElement.closest ? document.activeElement.closest('#fleet-table tr')?.dataset.locationId : undefined;
    $('fleet-table').tBodies[0].replaceChildren(...rows);
    if (focusedId) $('fleet-table').querySelector('tr[data-location-id="' + focusedId + '"] a')?.focus();
    const dark = [...fleet.values()].filter((i) => i.state !== 'open').length;
    $('fleet-count').textContent = items.length + ' of ' + fleet.size + ' locations shown; ' + dark + ' not open';
  }
  function applyFilter(ev) {
    ev.preventDefault();
    renderFleet();
    // Enter in the search box: the filter applies and focus moves to the first match.
    const first = $('fleet-table').querySelector('tbody a');
    if (first) first.focus();
  }

  // ---- location view ---------------------------------------------------------
  function renderSummary() {
    if (!current) return;
    const i = fleet.get(current);
    const loc = currentLoaded;
    const name = (i && i.name) || (loc && loc.name) || current;
    if ($('location-title').textContent !== name) $('location-title').textContent = name;
    const rows = [
      ['Location id', current],
      ['Dojo account', (i && i.dojoAccountId) || (loc && loc.dojoAccountId) || '—'],
      ['Protocol', (i && i.protocol) || 'epos-data'],
      ['Enabled', loc ? (loc.enabled ? 'yes' : 'no') : i ? (i.enabled ? 'yes' : 'no') : '—'],
      ['Connection state', i ? stateBadge(i.state) : '—'],
      ['Owning replica', (i && i.replicaId) || '—'],
      ['Since', time(i && i.since)],
      ['Last pong', time(i && i.lastPongAt)],
      ['Reconnects', i ? i.reconnects : '—'],
      ['Requests served', i ? i.requestsServed : '—'],
      ['Errors (5 min)', currentErrors !== null ? currentErrors : i ? i.errorsLast5m : '—'],
      ['Last error', (i && i.lastError) || '—'],
      ['Next attempt', time(i && i.nextAttemptAt)],
      ['API key', loc ? '…' + loc.apiKeyLast4 : '—'],
    ];
    const dl = $('location-summary');
    dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-field': k }, v)]));
    renderCounter(loc && loc.counter);
    $('location-view').dataset.state = i ? i.state : '';
    const enabled = loc ? loc.enabled : i ? i.enabled : true;
    $('toggle-enabled').textContent = enabled ? 'Disable' : 'Enable';
  }
  // Pay at counter (GET /v1/locations/{id} `counter`): the PAC link, its terminals and the last transactions.
  function renderCounter(c) {
    $('counter-section').hidden = !c;
    if (!c) return;
    const l = c.link;
    const rows = [
      ['PAC link', l.via === 'protocol' ? 'the location\'s protocol (connect-pac)' : 'beside the protocol'],
      ['Link state', stateBadge(l.state)],
      ['Since', time(l.since)],
      ['Last error', l.lastError || '—'],
      ['Host', l.hostAddress + (l.environment === 'test' ? ' (test)' : '')],
      ['Installer id', l.installerId],
      ['Signature default', l.signatureDefault + ' after ' + l.signatureWaitMs + ' ms'],
      ['Token', '…' + l.tokenLast4],
      ['Enabled', l.enabled ? 'yes' : 'no'],
      ['Terminals read', time(c.terminals.observedAt)],
    ];
    $('counter-summary').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-field': k }, v)]));
    $('counter-terminals-table').tBodies[0].replaceChildren(...c.terminals.items.map((t) =>
      el('tr', { 'data-tid': t.tid }, el('td', {}, t.tid), el('td', {}, t.status), el('td', {}, t.currency || '—'), el('td', {}, t.location || '—'))));
    $('counter-transactions-table').tBodies[0].replaceChildren(...c.lastTransactions.map((t) =>
      el('tr', { 'data-transaction-id': t.id, 'data-state': t.state },
        el('td', {}, time(t.createdAt)), el('td', {}, t.tid), el('td', {}, t.kind),
        el('td', { class: 'num' }, t.amount === undefined ? '—' : money(t.amount, t.currency)),
        el('td', {}, t.orderId || '—'), el('td', {}, t.state), el('td', {}, t.result || t.failure || '—'),
        el('td', {}, t.lastNotification || '—'), el('td', {}, t.message || ''))));
  }
  // While a location's page is open (and the tab visible), its events, outbox and dead letters are re-read every
  // few seconds; its requests are re-read whenever its live status changes.
  let activityTimer = null;
  function watchActivity() {
    if (activityTimer) clearInterval(activityTimer);
    activityTimer = setInterval(() => {
      if (!current || document.hidden) return;
      void Promise.all([refreshEvents(), refreshOutbox(), refreshDead(), refreshCounter()]).catch(() => undefined);
    }, 5000);
  }
  async function openLocation(id) {
    current = id;
    eventsLimit = PAGE;
    outboxLimit = PAGE;
    watchActivity();
    currentLoaded = null;
    currentErrors = null;
    for (const t of ['requests-table', 'events-table', 'outbox-table', 'dead-table']) $(t).tBodies[0].replaceChildren();
    $('action-result').textContent = '';
    renderSummary();
    const r = await api('GET', '/v1/locations/' + id);
    if (current !== id) return;
    if (r.status === 404) { $('location-title').textContent = 'No such location'; return; }
    currentLoaded = r.body;
    renderSummary();
    await Promise.all([refreshRequests(), refreshEvents(), refreshOutbox(), refreshDead()]);
  }
  async function refreshCounter() {
    const id = current;
    if (!currentLoaded || !currentLoaded.counter) return;
    const r = await api('GET', '/v1/locations/' + id);
    if (current !== id || !r.ok) return;
    currentLoaded = r.body;
    renderCounter(r.body.counter);
  }
  async function refreshRequests() {
    const id = current;
    const r = await api('GET', '/v1/locations/' + id + '/requests');
    if (current !== id || !r.ok) return;
    if (currentErrors !== r.body.errorsLast5m) { currentErrors = r.body.errorsLast5m; renderSummary(); }
    $('requests-note').textContent = r.body.items.length + ' recorded; ' + r.body.errorsLast5m + ' error(s) in the last 5 minutes';
    $('requests-table').tBodies[0].replaceChildren(...r.body.items.map((q) =>
      el('tr', {},
        el('td', {}, time(q.at)),
        el('td', {}, q.method || '—'),
        el('td', {}, q.rpcId || '—'),
        el('td', { class: 'num', 'data-ms': q.ms }, q.ms + ' ms'),
        el('td', { class: 'outcome-' + q.outcome }, q.outcome),
        el('td', {}, q.errorType || ''),
      )));
  }
  async function refreshEvents() {
    const id = current;
    const r = await api('GET', '/v1/locations/' + id + '/dojo-events?limit=' + eventsLimit);
    if (current !== id || !r.ok) return;
    $('events-more').hidden = !r.body.nextCursor || eventsLimit >= 500;
    $('events-table').tBodies[0].replaceChildren(...r.body.items.map((e) =>
      el('tr', { 'data-event-id': e.eventId, 'data-state': e.state },
        el('td', {}, time(e.receivedAt)), el('td', {}, e.eventType), el('td', {}, e.eventId),
        el('td', {}, e.paymentIntentId || '—'), el('td', {}, e.paymentStatus || '—'), el('td', {}, e.channel), el('td', {}, e.state))));
  }
  async function refreshOutbox() {
    const id = current;
    const r = await api('GET', '/v1/locations/' + id + '/outbox?limit=' + outboxLimit);
    if (current !== id || !r.ok) return;
    $('outbox-more').hidden = !r.body.nextCursor || outboxLimit >= 500;
    $('outbox-table').tBodies[0].replaceChildren(...r.body.items.map((o) =>
      el('tr', { 'data-state': o.state },
        el('td', {}, time(o.createdAt)), el('td', {}, o.eventType), el('td', {}, o.entityType + ' ' + o.entityId),
        el('td', {}, o.state), el('td', { class: 'num' }, o.attempts), el('td', {}, o.lastError || ''))));
  }
  async function refreshDead() {
    const id = current;
    const r = await api('GET', '/v1/dead-letters?locationId=' + encodeURIComponent(id) + '&limit=100');
    if (current !== id) return;
    const tbody = $('dead-table').tBodies[0];
    if (r.status === 404) {
      $('dead-note').textContent = 'Dead letters unavailable: this admin has no dead-letter API yet.';
      $('replay-all').hidden = true;
      tbody.replaceChildren();
      $('dead-table').dataset.available = 'false';
      return;
    }
    if (!r.ok) { $('dead-note').textContent = 'Dead letters could not be read (HTTP ' + r.status + ').'; return; }
    $('dead-table').dataset.available = 'true';
    $('dead-note').textContent = r.body.items.length ? r.body.items.length + ' dead letter(s)' : 'No dead letters.';
    $('replay-all').hidden = r.body.items.length === 0;
    tbody.replaceChildren(...r.body.items.map((d) => {
      const btn = el('button', { type: 'button', 'data-replay': d.id, 'aria-label': 'Replay ' + d.kind + ' ' + d.subject }, 'Replay');
      btn.addEventListener('click', () => replayOne(d.id));
      return el('tr', { 'data-dead-id': d.id },
        el('td', {}, time(d.deadAt)), el('td', {}, d.kind), el('td', {}, d.subject), el('td', { class: 'num' }, d.attempts),
        el('td', {}, d.lastError || ''), el('td', {}, btn));
    }));
  }
  async function replayOne(deadId) {
    const r = await api('POST', '/v1/dead-letters/' + encodeURIComponent(deadId) + '/replay', {});
    say(r.status === 202 ? 'Dead letter requeued.' : 'Replay failed: ' + message(r));
    await refreshDead();
    setTimeout(() => { void refreshEvents(); void refreshOutbox(); void refreshDead(); }, 1500);
  }
  async function replayAll() {
    const r = await api('POST', '/v1/dead-letters/replay', { locationId: current });
    say(r.status === 202 ? r.body.requeued + ' dead letter(s) requeued.' : 'Replay failed: ' + message(r));
    await refreshDead();
    setTimeout(() => { void refreshEvents(); void refreshOutbox(); void refreshDead(); }, 1500);
  }
  function message(r) {
    return (r.body && r.body.message) || 'HTTP ' + r.status;
  }
  function say(text) {
    $('action-result').textContent = text;
  }
  async function reconnect() {
    const r = await api('POST', '/v1/locations/' + current + '/reconnect');
    say(r.status === 202 ? 'Reconnect requested (' + r.body.gatewaysNotified + ' gateway replica(s) notified); the state updates live.' : 'Reconnect refused: ' + message(r));
  }
  async function toggleEnabled() {
    const enable = $('toggle-enabled').textContent === 'Enable';
    if (!enable && !confirm('Disable this location? Its Dojo socket closes at once.')) return;
    const r = await api('POST', '/v1/locations/' + current + (enable ? '/enable' : '/disable'));
    if (r.ok) { currentLoaded = Object.assign({}, currentLoaded, r.body); say(enable ? 'Location enabled.' : 'Location disabled.'); renderSummary(); }
    else say('Failed: ' + message(r));
  }
  async function rotateKey(ev) {
    ev.preventDefault();
    const input = $('new-key');
    const apiKey = input.value;
    input.value = ''; // entered once, never shown again
    if (!apiKey) return;
    const r = await api('PUT', '/v1/locations/' + current + '/api-key', { apiKey });
    if (r.ok) { currentLoaded = Object.assign({}, currentLoaded, r.body); renderSummary(); say('Key rotated; it ends in …' + r.body.apiKeyLast4 + '. The gateway reconnects with it now.'); }
    else say('Rotation refused: ' + message(r));
  }

  // ---- routing ----------------------------------------------------------------
  function show(view) {
    for (const v of ['signin-view', 'fleet-view', 'location-view']) $(v).hidden = v !== view;
    $('signout').hidden = view === 'signin-view';
  }
  function route() {
    if (!token()) {
      current = null;
      if (activityTimer) { clearInterval(activityTimer); activityTimer = null; }
      show('signin-view');
      $('token').focus();
      return;
    }
    const m = /^#\/locations\/([0-9a-f-]{36})$/i.exec(location.hash);
    if (m) {
      show('location-view');
      void openLocation(m[1]).catch(() => undefined);
      $('location-title').focus();
    } else {
      current = null;
      if (activityTimer) { clearInterval(activityTimer); activityTimer = null; }
      show('fleet-view');
      renderFleet();
      $('fleet-title').focus();
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', (e) => void signIn(e).catch((err) => { $('signin-error').textContent = 'Sign-in failed: ' + err.message; }));
    $('signout').addEventListener('click', () => signOut());
    $('filters').addEventListener('submit', applyFilter);
    for (const id of ['search', 'state-filter', 'protocol-filter']) $(id).addEventListener('input', renderFleet);
    $('reconnect').addEventListener('click', () => void reconnect().catch(() => undefined));
    $('toggle-enabled').addEventListener('click', () => void toggleEnabled().catch(() => undefined));
    $('rotate-form').addEventListener('submit', (e) => void rotateKey(e).catch(() => undefined));
    $('replay-all').addEventListener('click', () => void replayAll().catch(() => undefined));
    $('events-more').addEventListener('click', () => { eventsLimit = Math.min(500, eventsLimit + PAGE); void refreshEvents().catch(() => undefined); });
    $('outbox-more').addEventListener('click', () => { outboxLimit = Math.min(500, outboxLimit + PAGE); void refreshOutbox().catch(() => undefined); });
    window.addEventListener('hashchange', route);
    if (token()) connect();
    route();
  });
})();
