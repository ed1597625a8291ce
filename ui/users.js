// @ts-check
// The Users card: the registry's users (names only), add, remove (with a
// confirmation), a new password (typed, or generated and shown once with a
// copy button), whether logins are on, and what other machines must set up
// to use the registry (insecure-registries, or TLS with certs.d).

import { api } from './api.js';
import { state, onStatus, onConfig, announce, markUnreachable, loadConfig, poller, isActive, setStatus } from './state.js';
import { el, icon } from './view.js';
import { remoteAddress, bindError, isLoopback } from './validate.js';
import { toast, copyText } from './desktop.js';
import { confirmDialog } from './dialogs.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/** @type {UsersInfo | null} */
let info = null;
/** the row whose new-password form is open */
let resetOpen = '';
let busy = false;

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';


/** where docker login goes from this machine */
function localEndpoint() {
  return state.status?.endpoint || `localhost:${info?.port || 9999}`;
}

/** @param {string} id @param {string} text */
function fieldError(id, text) {
  const n = $(id);
  n.textContent = text;
  const inp = document.querySelector(`[aria-describedby~="${id}"]`);
  if (inp) inp.setAttribute('aria-invalid', text ? 'true' : 'false');
}

/** @param {UserChange} res @param {string} verb */
function appliedWords(res, verb) {
  if (res.applied === 'restart') return `${verb}. Restart the registry to turn logins ${res.count ? 'on' : 'off'}.`;
  if (res.applied === 'live') return `${verb}; the running registry uses it now.`;
  return `${verb}.`;
}

/** Shows a generated password once, with a copy button and the login command. */
/** @param {string} name @param {string} password */
function showSecret(name, password) {
  $('users-secret-title').textContent = `New password for ${name}`;
  $('users-secret-value').textContent = password;
  $('users-secret-login').textContent = `docker login ${localEndpoint()} -u ${name}`;
  $('users-secret').hidden = false;
  /** @type {HTMLElement} */ ($('users-secret-copy')).focus();
}

function hideSecret() {
  $('users-secret-value').textContent = '';
  $('users-secret').hidden = true;
}

export async function refreshUsers() {
  try {
    info = await api.users();
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    return;
  }
  renderUsers();
}

/** @param {string} name */
async function removeUser(name) {
  const ok = await confirmDialog({
    title: `Remove the user ${name}?`,
    body: `${name} can no longer log in to push or pull. Images stay in the registry.`,
    confirm: 'Remove',
  });
  if (!ok) return;
  busy = true;
  renderUsers();
  try {
    const res = await api.removeUser(name);
    toast('success', appliedWords(res, `User ${name} removed`));
    if ($('users-secret-title').textContent?.endsWith(` ${name}`)) hideSecret();
  } catch (err) {
    toast('error', `Could not remove ${name}: ${err.message}`);
  } finally {
    busy = false;
    await refreshUsers();
  }
}

/** @param {string} name @param {string} password */
async function resetPassword(name, password) {
  fieldError('err-u-reset', '');
  busy = true;
  renderUsers();
  try {
    const res = await api.resetPassword(name, password || undefined);
    resetOpen = '';
    if (res.password) showSecret(name, res.password);
    else hideSecret();
    toast('success', appliedWords(res, `New password for ${name} set`));
  } catch (err) {
    busy = false;
    renderUsers();
    fieldError('err-u-reset', err.field === 'password' ? err.message : `Could not set the password: ${err.message}`);
    return;
  }
  busy = false;
  await refreshUsers();
}

async function addUser(/** @type {SubmitEvent} */ e) {
  e.preventDefault();
  const name = input('u-name').value.trim();
  const password = input('u-password').value;
  fieldError('err-u-name', '');
  fieldError('err-u-password', '');
  if (!name) {
    fieldError('err-u-name', 'Enter a name: letters, digits, dots, underscores and hyphens.');
    input('u-name').focus();
    return;
  }
  busy = true;
  renderUsers();
  try {
    const res = await api.addUser(name, password || undefined);
    input('u-name').value = '';
    input('u-password').value = '';
    if (res.password) showSecret(name, res.password);
    else hideSecret();
    toast('success', appliedWords(res, `User ${name} added`));
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    const target = err.field === 'password' ? 'err-u-password' : 'err-u-name';
    fieldError(target, err.message);
    input(err.field === 'password' ? 'u-password' : 'u-name').focus();
  } finally {
    busy = false;
    await refreshUsers();
  }
}

/** @param {string} name */
function resetForm(name) {
  const pw = el('input', {
    id: 'u-reset',
    type: 'password',
    autocomplete: 'new-password',
    placeholder: 'empty: generate one',
    'aria-label': `New password for ${name}`,
    'aria-describedby': 'err-u-reset',
  });
  const form = el(
    'form',
    { class: 'users-reset', novalidate: true },
    pw,
    el('button', { type: 'submit', class: 'btn btn-outlined btn-small' }, 'Set'),
    el('button', { type: 'button', class: 'btn btn-text btn-small', dataset: { act: 'cancel' } }, 'Cancel'),
    el('p', { class: 'field-error', id: 'err-u-reset', 'aria-live': 'polite' }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    resetPassword(name, /** @type {HTMLInputElement} */ (pw).value);
  });
  form.querySelector('[data-act="cancel"]')?.addEventListener('click', () => {
    resetOpen = '';
    renderUsers();
  });
  return form;
}

function renderList() {
  const list = $('users-list');
  const users = info?.users || [];
  list.replaceChildren(
    ...users.map((u) =>
      el(
        'li',
        { class: 'user-row', dataset: { user: u.name } },
        el(
          'div',
          { class: 'user-main' },
          el('span', { class: 'user-name mono' }, u.name),
          el(
            'span',
            { class: 'user-actions' },
            el('button', { type: 'button', class: 'btn btn-text btn-small', dataset: { act: 'reset', user: u.name }, disabled: busy }, 'New password'),
            el('button', { type: 'button', class: 'btn btn-text btn-small btn-danger-text', dataset: { act: 'remove', user: u.name }, disabled: busy }, 'Remove'),
          ),
        ),
        resetOpen === u.name ? resetForm(u.name) : null,
      ),
    ),
  );
  $('users-empty').hidden = users.length > 0;
}

function renderAuth() {
  const chip = $('users-auth');
  const on = Boolean(info?.authEnabled);
  const running = info?.authRunning;
  let text = on ? 'Logins on' : 'Logins off';
  let cls = on ? 'chip chip-ok' : 'chip';
  if (running === false && on) {
    text = 'Logins on after Restart';
    cls = 'chip chip-warn';
  } else if (running === true && !on) {
    text = 'Logins off after Restart';
    cls = 'chip chip-warn';
  }
  chip.textContent = text;
  chip.className = cls;
  $('users-intro').textContent = on
    ? `Docker must log in to push or pull: docker login ${localEndpoint()}. The tab itself uses a credential of its own, never shown.`
    : 'Anyone who reaches the registry can push and pull. Add a user to require docker login.';
}

/** @param {string} text */
function code(text) {
  return el('code', {}, text);
}

/** @param {string} text @param {string} label */
function commandBox(text, label) {
  const c = el('code', {}, text);
  const btn = el(
    'button',
    { type: 'button', class: 'btn-icon copy', 'aria-label': label, title: 'Copy' },
    icon(COPY_ICON),
  );
  btn.addEventListener('click', () => copyWithFeedback(btn, text));
  return el('div', { class: 'command' }, c, btn);
}

/** @param {HTMLElement} btn @param {string} text */
async function copyWithFeedback(btn, text) {
  try {
    await copyText(text);
    btn.classList.add('copied');
    announce('Copied to the clipboard.');
    setTimeout(() => btn.classList.remove('copied'), 1600);
  } catch {
    toast('error', 'Could not copy: select the text and copy it by hand.');
  }
}

function renderRemote() {
  const body = $('users-remote-body');
  if (!info || info.loopback !== false) {
    body.replaceChildren(
      el(
        'p',
        {},
        'The registry listens on ',
        code(info?.bind || '127.0.0.1'),
        ' only, so only this machine reaches it. To share it, follow the steps above (a user, the listen address, optionally a certificate, Save and restart): what the other machines need then appears here.',
      ),
    );
    return;
  }
  const addr = remoteAddress(info?.bind || '127.0.0.1', info?.port || 9999);
  const wildcard = addr.startsWith('THIS-MACHINE');
  const daemon = JSON.stringify({ 'insecure-registries': [addr] }, null, 2);
  body.replaceChildren(
    el('p', {}, 'Other machines reach this registry at ', code(addr), wildcard ? ' (THIS-MACHINE: this machine’s address on your network).' : '.', ' Every one of them logs in first:'),
    commandBox(`docker login ${addr}`, 'Copy the docker login command'),
    el('h3', { class: 'users-option' }, 'Either: plain HTTP, on a network you trust'),
    el(
      'p',
      {},
      'Passwords and images cross the network unencrypted. On each machine, add the registry to ',
      code('insecure-registries'),
      ' in the Docker daemon’s configuration (Docker Desktop: Settings › Docker Engine; Linux: ',
      code('/etc/docker/daemon.json'),
      '), then restart Docker:',
    ),
    el('pre', { class: 'mono users-json' }, daemon),
    el('h3', { class: 'users-option' }, 'Or: TLS with your own certificate'),
    el(
      'p',
      {},
      'Paste a certificate for ',
      code(addr.replace(/:\d+$/, '')),
      ' and its private key (PEM) in step 3 above, then Save and restart: the registry then speaks HTTPS. On each machine, put the certificate of the authority that signed it (the certificate itself when it is self-signed) in ',
      code(`/etc/docker/certs.d/${addr}/ca.crt`),
      ' (Docker Desktop on macOS: ',
      code(`~/.docker/certs.d/${addr}/ca.crt`),
      '); no restart needed.',
    ),
  );
}

/** The saved certificate's facts (never the key), or null. */
function savedTls() {
  const tls = /** @type {any} */ (state.config)?.tls;
  return tls && typeof tls === 'object' && tls.enabled ? tls : null;
}

/** The TLS step's state line, its Turn off button and the key's placeholder. */
function renderTlsState() {
  const saved = savedTls();
  const names = saved?.certificate?.names?.join(', ') || saved?.certificate?.subject || '';
  $('users-tls-state').textContent = saved
    ? `TLS on: a certificate for ${names}${saved.certificate?.notAfter ? `, valid until ${saved.certificate.notAfter.slice(0, 10)}` : ''}. Paste another to replace it.`
    : 'TLS off: the registry speaks plain HTTP. Paste a certificate and its key to serve HTTPS.';
  $('btn-tls-off').hidden = !saved;
  input('u-tls-key').placeholder = saved ? 'saved — leave empty to keep' : '-----BEGIN PRIVATE KEY-----';
}

/* ---------- Allow other machines: user, address, TLS, Restart ---------- */

let remoteBusy = false;
let bindTouched = false;

function savedBind() {
  return String(/** @type {any} */ (state.config)?.bind || info?.bind || '127.0.0.1');
}

/** What the flow shows from the saved state; never touches what is typed. */
function renderFlow() {
  const users = info?.users || [];
  const done = users.length > 0;
  const doneLine = $('remote-user-done');
  doneLine.hidden = !done;
  doneLine.textContent = done ? `✓ ${users.length === 1 ? 'One user' : `${users.length} users`}: ${users.map((u) => u.name).join(', ')}. More in Users, above.` : '';
  $('remote-user-fields').hidden = done && !input('r-user-name').value && !input('r-user-password').value;
  const bindInput = input('r-bind');
  if (!bindTouched && document.activeElement !== bindInput) bindInput.value = savedBind();
  renderBindHelp();
  const shared = !isLoopback(savedBind());
  const chip = $('remote-chip');
  chip.textContent = shared ? `Shared on ${savedBind()}` : 'This machine only';
  chip.className = shared ? 'chip chip-ok' : 'chip';
  renderTlsState();
  const btn = /** @type {HTMLButtonElement} */ ($('btn-remote-apply'));
  btn.disabled = remoteBusy || state.unreachable;
  btn.classList.toggle('busy', remoteBusy);
  /** @type {HTMLElement} */ (btn.querySelector('.btn-label')).textContent = isActive() ? 'Save and restart' : 'Save and start';
}

function renderBindHelp() {
  const v = input('r-bind').value.trim() || '127.0.0.1';
  const loop = isLoopback(v);
  $('help-r-bind').textContent = loop
    ? 'A loopback address: only this machine reaches the registry. Enter this machine’s address on your network, or 0.0.0.0 for all of its addresses.'
    : 'Other machines on your network reach the registry at this address; each one logs in as a registry user (step 1).';
}

/** @param {string} text */
function progress(text) {
  $('remote-progress').textContent = text;
}

/** @param {string} text */
function remoteError(text) {
  const n = $('remote-error');
  n.textContent = text;
  n.hidden = !text;
}

/** The flow's one button: each step in order, stopping at the first refused. */
async function applyRemote(/** @type {SubmitEvent} */ e) {
  e.preventDefault();
  if (remoteBusy) return;
  for (const id of ['err-r-user-name', 'err-r-user-password', 'err-r-bind', 'err-u-tls']) fieldError(id, '');
  remoteError('');
  const bind = input('r-bind').value.trim() || '127.0.0.1';
  const name = input('r-user-name').value.trim();
  const password = input('r-user-password').value;
  const cert = /** @type {HTMLTextAreaElement} */ (/** @type {unknown} */ (input('u-tls-cert'))).value.trim();
  const key = /** @type {HTMLTextAreaElement} */ (/** @type {unknown} */ (input('u-tls-key'))).value.trim();
  const bad = bindError(bind);
  if (bad) {
    fieldError('err-r-bind', bad);
    input('r-bind').focus();
    return;
  }
  if (!isLoopback(bind) && !(info?.users || []).length && !name) {
    fieldError('err-r-user-name', 'Add a registry user first: other machines may reach the registry only with a login.');
    input('r-user-name').focus();
    return;
  }
  if (key && !cert) {
    fieldError('err-u-tls', 'Paste the certificate (-----BEGIN CERTIFICATE-----) that goes with the key.');
    input('u-tls-cert').focus();
    return;
  }
  remoteBusy = true;
  renderFlow();
  try {
    // 1. the user
    if (name) {
      progress(`Adding the user ${name}…`);
      try {
        const res = await api.addUser(name, password || undefined);
        input('r-user-name').value = '';
        input('r-user-password').value = '';
        if (res.password) showSecret(name, res.password);
        else hideSecret();
        await refreshUsers();
      } catch (err) {
        if (err.unreachable) markUnreachable(err);
        const pw = err.field === 'password';
        fieldError(pw ? 'err-r-user-password' : 'err-r-user-name', err.message);
        input(pw ? 'r-user-password' : 'r-user-name').focus();
        return;
      }
    }
    // 2. and 3. the address and the certificate, in one save
    /** @type {Record<string, any>} */
    const body = {};
    if (bind !== savedBind()) body.bind = bind;
    if (cert) body.tls = key ? { certificate: `${cert}\n`, key: `${key}\n` } : { certificate: `${cert}\n` };
    if (Object.keys(body).length) {
      progress('Saving the address and the certificate…');
      try {
        await api.putConfig(body);
      } catch (err) {
        if (err.unreachable) markUnreachable(err);
        const f = String(err.field || '');
        if (f === 'bind') {
          fieldError('err-r-bind', err.message);
          input('r-bind').focus();
        } else if (f.startsWith('tls')) {
          fieldError('err-u-tls', err.message);
          input(f === 'tls.key' ? 'u-tls-key' : 'u-tls-cert').focus();
        } else remoteError(f ? `${f}: ${err.message}` : err.message);
        return;
      }
      bindTouched = false;
      /** @type {HTMLTextAreaElement} */ (/** @type {unknown} */ (input('u-tls-cert'))).value = '';
      /** @type {HTMLTextAreaElement} */ (/** @type {unknown} */ (input('u-tls-key'))).value = '';
      await loadConfig();
    }
    // 4. Restart (or Start, when it is stopped)
    progress(isActive() ? 'Restarting the registry…' : 'Starting the registry…');
    try {
      const res = isActive() ? await api.restart() : await api.start();
      if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
      const msg = isLoopback(bind) ? 'Saved: the registry restarts on this machine only.' : `Saved: the registry restarts on ${bind}.`;
      toast('success', msg);
      announce(msg);
    } catch (err) {
      if (err.unreachable) markUnreachable(err);
      remoteError(`Saved, but the registry did not restart: ${err.message}. Press Save and restart again.`);
    }
  } finally {
    remoteBusy = false;
    progress('');
    renderFlow();
    poller.poll();
  }
}

/** @param {{certificate: string, key?: string} | null} tls */
async function saveTls(tls) {
  fieldError('err-u-tls', '');
  try {
    await api.putConfig({ tls });
    toast('success', tls ? 'Certificate saved: Restart to serve HTTPS.' : 'TLS turned off: Restart to serve plain HTTP.');
    await loadConfig();
    poller.poll();
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    fieldError('err-u-tls', err.message);
  }
}

/** Everything, from the last answer: after a change or a refresh only (an
 * open new-password form keeps what is typed in it between polls). */
function renderUsers() {
  renderAuth();
  renderList();
  renderRemote();
  renderFlow();
  renderUsersState();
}

/** What the status polls may change: cheap, leaves the list alone. */
export function renderUsersState() {
  if (!document.getElementById('users-card')) return;
  /** @type {HTMLButtonElement} */ ($('btn-user-add')).disabled = busy || state.unreachable;
}

export function bindUsers() {
  $('users-add').addEventListener('submit', addUser);
  $('users-list').addEventListener('click', (e) => {
    const btn = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('button[data-act]'));
    if (!btn || !btn.dataset.user) return;
    if (btn.dataset.act === 'remove') removeUser(btn.dataset.user);
    else if (btn.dataset.act === 'reset') {
      resetOpen = resetOpen === btn.dataset.user ? '' : btn.dataset.user;
      renderUsers();
      if (resetOpen) input('u-reset').focus();
    }
  });
  $('users-secret-copy').addEventListener('click', () =>
    copyWithFeedback($('users-secret-copy'), $('users-secret-value').textContent || ''),
  );
  $('users-secret-done').addEventListener('click', hideSecret);
  $('remote-form').addEventListener('submit', applyRemote);
  input('r-bind').addEventListener('input', () => {
    bindTouched = true;
    fieldError('err-r-bind', '');
    renderBindHelp();
  });
  $('btn-tls-off').addEventListener('click', () => saveTls(null));
  // logins turn on or off with a restart; the listen address with a save
  onStatus((before) => {
    const now = state.status;
    if (!before || before.pendingRestart !== now?.pendingRestart || before.state !== now?.state) refreshUsers();
  });
  onConfig(() => refreshUsers());
  refreshUsers();
}
