// @ts-check
// The Users card: the registry's users (names only), add, remove (with a
// confirmation), a new password (typed, or generated and shown once with a
// copy button), whether logins are on, and what other machines must set up
// to use the registry (insecure-registries, or TLS with certs.d).

import { api } from './api.js';
import { state, onStatus, onConfig, announce, markUnreachable, loadConfig, poller } from './state.js';
import { el, icon } from './view.js';
import { remoteAddress } from './validate.js';
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
        ' only, so only this machine reaches it. To share it: add a user, then set the listen address (Settings › Edit › Advanced) to this machine’s network address, save and Restart. The steps for the other machines then appear here.',
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
      ' and its private key (PEM) below, save and Restart: the registry then speaks HTTPS. On each machine, put the certificate of the authority that signed it (the certificate itself when it is self-signed) in ',
      code(`/etc/docker/certs.d/${addr}/ca.crt`),
      ' (Docker Desktop on macOS: ',
      code(`~/.docker/certs.d/${addr}/ca.crt`),
      '); no restart needed.',
    ),
    tlsForm(),
  );
}

/** The saved certificate's facts (never the key), or null. */
function savedTls() {
  const tls = /** @type {any} */ (state.config)?.tls;
  return tls && typeof tls === 'object' && tls.enabled ? tls : null;
}

/** Certificate and key (settings tls.certificate and tls.key), or TLS off. */
function tlsForm() {
  const saved = savedTls();
  const cert = el('textarea', { id: 'u-tls-cert', rows: 4, spellcheck: 'false', class: 'mono', 'aria-label': 'Certificate (PEM)', placeholder: '-----BEGIN CERTIFICATE-----', 'aria-describedby': 'err-u-tls' });
  const key = el('textarea', { id: 'u-tls-key', rows: 4, spellcheck: 'false', class: 'mono', 'aria-label': 'Private key (PEM)', placeholder: saved ? 'saved — leave empty to keep' : '-----BEGIN PRIVATE KEY-----', 'aria-describedby': 'err-u-tls' });
  const save = el('button', { type: 'submit', class: 'btn btn-outlined btn-small', id: 'btn-tls-save' }, 'Save certificate');
  const off = saved ? el('button', { type: 'button', class: 'btn btn-text btn-small', id: 'btn-tls-off' }, 'Turn TLS off') : null;
  const names = saved?.certificate?.names?.join(', ') || saved?.certificate?.subject || '';
  const form = el(
    'form',
    { class: 'users-tls', id: 'users-tls', novalidate: true },
    el('p', { class: 'small', id: 'users-tls-state' }, saved ? `TLS on: a certificate for ${names}${saved.certificate?.notAfter ? `, valid until ${saved.certificate.notAfter.slice(0, 10)}` : ''}.` : 'TLS off: the registry speaks plain HTTP.'),
    el('label', { for: 'u-tls-cert' }, 'Certificate (PEM, the chain may follow)'),
    cert,
    el('label', { for: 'u-tls-key' }, 'Private key (PEM, kept as a secret)'),
    key,
    el('p', { class: 'field-error', id: 'err-u-tls', 'aria-live': 'polite' }),
    el('div', { class: 'user-actions' }, save, off),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const c = /** @type {HTMLTextAreaElement} */ (cert).value.trim();
    const k = /** @type {HTMLTextAreaElement} */ (key).value.trim();
    if (!c) {
      fieldError('err-u-tls', 'Paste the certificate (-----BEGIN CERTIFICATE-----).');
      return;
    }
    saveTls(k ? { certificate: `${c}\n`, key: `${k}\n` } : { certificate: `${c}\n` });
  });
  off?.addEventListener('click', () => saveTls(null));
  return form;
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
  // logins turn on or off with a restart; the listen address with a save
  onStatus((before) => {
    const now = state.status;
    if (!before || before.pendingRestart !== now?.pendingRestart || before.state !== now?.state) refreshUsers();
  });
  onConfig(() => refreshUsers());
  refreshUsers();
}
