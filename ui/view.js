// @ts-check
// Rendering helpers and the overview's status parts: state in, DOM out. No
// network, no timers, no form logic. Text from the backend is always set
// with textContent, never parsed as HTML.

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * el('span', {class: 'x', title: 't'}, 'text', child...)
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

/** The tab's names for the storage modes (the backend's messages use them too). */
export const MODE_LABELS = {
  storj: 'Storj (recommended)',
  'storj-hosted': 'Storj hosted gateway',
  'storj-native': 'Storj native driver (2022)',
  s3: 'S3-compatible',
  local: 'Local volume',
};

/** @param {string | undefined} mode */
export function modeLabel(mode) {
  return (mode && /** @type {Record<string,string>} */ (MODE_LABELS)[mode]) || mode || '—';
}

const STATE_WORDS = {
  'not-configured': 'Not set up',
  stopped: 'Stopped',
  pulling: 'Downloading',
  starting: 'Starting',
  running: 'Running',
  unhealthy: 'Not answering',
  failed: 'Failed',
  unreachable: 'No connection',
  stopping: 'Stopping',
  removing: 'Removing',
  cleaning: 'Cleaning up',
  applying: 'Applying clean-up rules',
  'read-only': 'Read-only: cleaning up',
  checking: 'Checking storage',
  unknown: 'Loading…',
};

/** @param {string} state */
export function stateWords(state) {
  return /** @type {Record<string,string>} */ (STATE_WORDS)[state] || String(state || 'Unknown');
}

/** @param {HTMLElement} node @param {string} text */
export function setTextIfChanged(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * Backend messages start in lowercase; on screen they read as sentences.
 * A message that starts with a field's name (cache.port, accessGrant) keeps
 * it as the user sees it in the API and the docs.
 * @param {unknown} text
 */
export function sentence(text) {
  const t = String(text ?? '').trim();
  if (!t) return '';
  const field = /^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+\b|^[a-z]+[A-Z][A-Za-z0-9]*\b/.test(t);
  const s = field ? t : t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

/**
 * Sizes as Docker Desktop shows them: decimal B, kB, MB, GB, three
 * significant digits (never "0.00 MB").
 * @param {number} n
 */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/**
 * A date as a short local date and time; '' for what is not a date.
 * @param {string | undefined | null} iso
 */
export function shortDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  // one formatter for every row (toLocaleString builds one per call)
  dateFormat = dateFormat || new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return dateFormat.format(d);
}
/** @type {Intl.DateTimeFormat | null} */
let dateFormat = null;

/** @param {string} d */
export function icon(d) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

/* ---------- failures: the plain cause first, the raw error under Details ---------- */

/**
 * What went wrong, in words a user reads first; the backend's own message
 * (often the engine's) goes under Details.
 * @param {ApiErrorBody} error
 * @param {{port?: string}} [ctx]
 */
export function plainCause(error, ctx = {}) {
  const code = error.code || '';
  const msg = String(error.message || '');
  const inUse = /already|in use|address already|port is already allocated/i.test(msg);
  switch (code) {
    case 'storage_check_failed':
      return sentence(msg || 'The storage check failed');
    case 'docker_unreachable':
      return 'Docker is not answering.';
    case 'pull_failed':
    case 'no_such_image':
      return 'The registry image could not be downloaded.';
    case 'start_failed':
      return inUse ? `Another program already uses port ${ctx.port || 'the registry’s port'}.` : 'The registry container would not start.';
    case 'create_failed':
    case 'name_taken':
      return 'The registry container could not be created.';
    case 'health_timeout':
      return 'The registry started but did not answer in time.';
    case 'container_exited':
      return 'The registry stopped on its own.';
    case 'container_removed':
      return 'The registry container was removed outside this tab.';
    case 'registry_unhealthy':
      return 'The registry runs but does not answer.';
    case 'gateway_stopped':
      return 'The Storj gateway container stopped.';
    case 'missing_field':
    case 'config_failed':
      return 'The storage settings are incomplete.';
    case 'gc_failed':
      return 'The clean-up failed.';
    case 'volume_in_use':
      return 'The data volume is in use by another container.';
    default:
      return sentence(msg || code || 'Something went wrong');
  }
}

/* ---------- hints: each names a control the user can see ---------- */

/**
 * The backend's hints (backend/errors.c) as the tab shows them: where a hint
 * names a place the tab does not have, the tab's own words. The browser test
 * walks every code of errors.c and checks that each control a shown hint
 * names (Start, Restart, Settings, Logs, Access) is on screen.
 */
export const HINT_OVERRIDES = {
  // "check the image setting": the tab has no image setting
  start_failed: 'Logs show why it would not start; check the storage settings (Settings › Edit), then press Start.',
  // the port is under Settings › Edit › Advanced
  port_in_use: 'Another program uses the port: pick another port in Settings (Edit › Advanced), then press Start.',
  // users are in the Access section
  users_required: 'Add a registry user in Access first, or listen on 127.0.0.1 only.',
  incomplete_settings: 'Open Settings, press Edit, complete the fields for this storage mode and save.',
};

/** @param {ApiErrorBody} error */
export function hintFor(error) {
  const own = /** @type {Record<string,string>} */ (HINT_OVERRIDES)[error.code || ''];
  return sentence(own || error.hint || '');
}

/** The sections a hint may name, as the tab's section ids. */
const HINT_SECTIONS = { Settings: 'settings', Logs: 'logs', Access: 'access' };

/**
 * A hint's text, with the sections it names as links to them.
 * @param {HTMLElement} node
 * @param {string} text
 */
export function renderHint(node, text) {
  if (node.dataset.text === text) return;
  node.dataset.text = text;
  const parts = text.split(/\b(Settings|Logs|Access)\b(?! ›\s*Docker)/);
  node.replaceChildren(
    ...parts.map((p, i) =>
      i % 2 ? el('button', { type: 'button', class: 'link-btn', 'data-goto': /** @type {Record<string,string>} */ (HINT_SECTIONS)[p] }, p) : p,
    ),
  );
}

/* ---------- storage check steps ---------- */

const STEP_NAMES = {
  reach: 'Reach the storage',
  bucket: 'Find the bucket',
  write: 'Write a test object',
  read: 'Read it back',
  list: 'List like the registry does',
  delete: 'Delete it',
};

/**
 * Fills an <ol> with the steps of a storage check.
 * @param {HTMLElement} ol
 * @param {CheckStep[] | undefined} steps
 * @param {string} [said] a message already shown above the list (not repeated)
 */
export function renderSteps(ol, steps, said = '') {
  const same = (/** @type {string | undefined} */ m) => sentence(m).toLowerCase() === sentence(said).toLowerCase();
  const list = Array.isArray(steps) ? steps : [];
  ol.hidden = list.length === 0;
  ol.replaceChildren(
    ...list.map((s) => {
      const st = s.ok === true ? 'ok' : s.ok === false ? 'bad' : 'skip';
      const mark = st === 'ok' ? '✓' : st === 'bad' ? '✗' : '–';
      const name = /** @type {Record<string,string>} */ (STEP_NAMES)[s.id] || s.id;
      return el(
        'li',
        { class: `step step-${st}`, dataset: { step: s.id, ok: st } },
        el('span', { class: 'step-mark', 'aria-hidden': 'true' }, mark),
        el(
          'div',
          { class: 'step-body' },
          el('span', { class: 'step-name' }, name, el('span', { class: 'visually-hidden' }, st === 'ok' ? ': passed' : st === 'bad' ? ': failed' : ': skipped')),
          // a skipped step's reason is the failure above it: not repeated
          s.message && st === 'bad' && !same(s.message) ? el('span', { class: 'step-msg' }, sentence(s.message)) : null,
          s.fix && st === 'bad' ? el('span', { class: 'step-fix' }, sentence(s.fix)) : null,
        ),
      );
    }),
  );
}

/* ---------- grant facts ---------- */

/** @param {Date} date */
function relTime(date) {
  const ms = date.getTime() - Date.now();
  const abs = Math.abs(ms);
  const day = 86400000;
  let text;
  if (abs < 3600000) text = `${Math.max(1, Math.round(abs / 60000))} min`;
  else if (abs < 2 * day) text = `${Math.round(abs / 3600000)} h`;
  else text = `${Math.round(abs / day)} days`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** @param {string} iso */
export function fmtDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toLocaleDateString(undefined, { dateStyle: 'medium' })} (${relTime(d)})`;
}

/** @param {number} seconds */
function fmtTTL(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s)) return String(seconds);
  if (s % 86400 === 0) return `${s / 86400} days`;
  if (s % 3600 === 0) return `${s / 3600} hours`;
  if (s % 60 === 0) return `${s / 60} minutes`;
  return `${s} seconds`;
}

/**
 * The grant, as read offline: one compact block under the grant field.
 * info: null (hide), {loading:true}, {saved:{satellite}}, or an inspect answer.
 * @param {null | {loading: true} | {saved: {satellite?: string}} | GrantInfo} info
 */
export function renderGrantInfo(info) {
  const box = $('grant-info');
  if (!info) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  if ('loading' in info) {
    box.replaceChildren(el('span', { class: 'loading' }, 'Reading the access grant…'));
    return;
  }
  if ('saved' in info) {
    const sat = info.saved.satellite;
    box.replaceChildren(el('span', { class: 'muted' }, 'The saved access grant is used', sat ? ` (satellite ${sat})` : '', '. Paste a new one to replace it.'));
    return;
  }
  const g = /** @type {GrantInfo} */ (info);
  const sat = g.satellite || {};
  const host = sat.host || sat.address || 'unknown';
  const p = g.permissions || {};
  const perms = el(
    'span',
    { class: 'perm' },
    ['read', 'write', 'list', 'delete'].map((k) => {
      const ok = /** @type {Record<string, boolean|undefined>} */ (p)[k];
      return el('span', { class: `chip ${ok ? 'chip-ok' : 'chip-bad'}`, title: ok ? `${k} allowed` : `${k} not allowed` }, `${ok ? '✓' : '✗'} ${k}`);
    }),
  );
  const rows = [
    ['Satellite', [el('span', { class: 'mono' }, host), sat.region ? ` · ${sat.region}` : '']],
    ['Allows', perms],
    ['Buckets', Array.isArray(g.buckets) ? (g.buckets.length ? g.buckets.join(', ') : 'none') : 'all buckets'],
    ['Expires', g.notAfter ? fmtDate(g.notAfter) : 'never'],
  ];
  if (g.notBefore) rows.push(['Valid from', fmtDate(g.notBefore)]);
  if (g.maxObjectTTL) rows.push(['Objects expire', `after ${fmtTTL(g.maxObjectTTL)}`]);
  if (g.pathEncryption) {
    const enc = { none: 'not encrypted', 'aes-gcm': 'encrypted (AES-GCM)', secretbox: 'encrypted (secretbox)' }[g.pathEncryption] || g.pathEncryption;
    rows.push(['Object keys', enc]);
  }
  box.replaceChildren(el('dl', {}, rows.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
}

/* ---------- form pieces ---------- */

/** @param {string} field */
export function fieldInputId(field) {
  return /** @type {Record<string,string>} */ ({
    bucket: 'f-bucket',
    accessGrant: 'f-grant',
    's3.endpoint': 'f-endpoint',
    's3.region': 'f-region',
    's3.accessKey': 'f-accesskey',
    's3.secretKey': 'f-secretkey',
    port: 'f-port',
    bind: 'f-bind',
    authService: 'f-auth',
    'cache.enabled': 'f-cache-enabled',
    'cache.port': 'f-cache-port',
    'cache.ttl': 'f-cache-ttl',
    'cache.username': 'f-cache-user',
    'cache.token': 'f-cache-token',
    'cache.upstream': 'f-cache-upstream',
  })[field];
}

/**
 * Shows (or clears, with '') a message beside a field; false when the field is not on screen.
 * @param {string} field
 * @param {string} message
 */
export function setFieldError(field, message) {
  const id = fieldInputId(field);
  const input = id && $(id);
  const out = $(`err-${field}`);
  if (!input || !out) return false;
  out.textContent = sentence(message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  if (message) {
    // a field in a closed fold must be seen
    const fold = input.closest('details');
    if (fold && !fold.open) fold.open = true;
  }
  return input.offsetParent !== null;
}

/** @param {string} message */
export function setFormError(message) {
  const p = $('form-error');
  p.textContent = message || '';
  p.hidden = !message;
}

/**
 * @param {string} listId
 * @param {Finding[]} warnings
 */
export function renderWarnings(listId, warnings) {
  const ul = $(listId);
  const list = Array.isArray(warnings) ? warnings.filter((w) => w && (w.message || w.code)) : [];
  ul.hidden = list.length === 0;
  ul.replaceChildren(...list.map((w) => el('li', { dataset: { code: w.code || '' } }, el('span', {}, sentence(w.message || w.code)))));
}

/** @param {{version?: string} | null | undefined} health */
export function renderVersion(health) {
  $('footer-version').textContent = health?.version ? `storj-registryd ${health.version}` : '';
}
