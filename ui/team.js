// @ts-check
// "Run this for my team": the saved settings exported as a deployment
// (POST /api/team/export): a compose bundle, Kubernetes manifests or Helm
// values. The files are previewed with copy buttons and downloaded as one
// .tar built here (a Blob and <a download>, which Docker Desktop's webview
// allows), so the backend's API stays JSON in and out.

import { api } from './api.js';
import { toast, copyText } from './desktop.js';
import { el, icon } from './view.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @typedef {{path: string, mode: string, secret: boolean, content: string}} TeamFile */
/** @typedef {{format: string, replicas: number, port: number, includeSecrets: boolean, files: TeamFile[]}} TeamBundle */

/** @type {TeamBundle | null} */
let bundle = null;
let busy = false;

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';

/** The form's choices as the API's body; null (with the field marked) when invalid. */
function options() {
  const format = /** @type {HTMLSelectElement} */ ($('team-format')).value;
  const replicasIn = /** @type {HTMLInputElement} */ ($('team-replicas'));
  const portIn = /** @type {HTMLInputElement} */ ($('team-port'));
  const replicas = Number(replicasIn.value.trim() || '2');
  const port = Number(portIn.value.trim() || '5000');
  const err = $('team-error');
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) {
    showError('Replicas must be a whole number from 1 to 16.', replicasIn);
    return null;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    showError('The port must be a whole number from 1 to 65535.', portIn);
    return null;
  }
  err.hidden = true;
  for (const f of [replicasIn, portIn]) f.removeAttribute('aria-invalid');
  const includeSecrets = /** @type {HTMLInputElement} */ ($('team-secrets')).checked;
  return { format, replicas, port, includeSecrets };
}

/** @param {string} message @param {HTMLElement} [field] */
function showError(message, field) {
  const err = $('team-error');
  err.textContent = message;
  err.hidden = false;
  for (const id of ['team-replicas', 'team-port']) $(id).removeAttribute('aria-invalid');
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

/** @param {TeamFile} f */
function fileView(f) {
  // prose wraps; YAML and scripts keep their lines (they scroll)
  const pre = el('pre', { class: `team-content mono${f.path.endsWith('.md') ? ' wrap' : ''}`, tabindex: '0' }, f.content);
  const copy = el(
    'button',
    { type: 'button', class: 'btn-icon copy', title: 'Copy', 'aria-label': `Copy ${f.path}` },
    icon(COPY_ICON),
  );
  copy.addEventListener('click', async () => {
    await copyText(f.content);
    toast('success', `${f.path} copied`);
  });
  return el(
    'details',
    { class: 'team-file', dataset: { path: f.path } },
    el(
      'summary',
      {},
      el('span', { class: 'mono team-path' }, f.path),
      el('span', { class: 'muted small' }, f.mode),
      f.secret ? el('span', { class: `chip ${bundle?.includeSecrets ? 'chip-bad' : 'chip-warn'}` }, bundle?.includeSecrets ? 'secret' : 'placeholder') : null,
      el('span', { class: 'header-spacer' }),
      copy,
    ),
    pre,
  );
}

function renderBundle() {
  const list = $('team-files');
  const dl = /** @type {HTMLButtonElement} */ ($('btn-team-download'));
  if (!bundle) {
    list.replaceChildren();
    dl.disabled = true;
    $('team-meta').textContent = '';
    return;
  }
  list.replaceChildren(...bundle.files.map(fileView));
  const first = /** @type {HTMLDetailsElement | null} */ (list.querySelector('details[data-path="README.md"]'));
  if (first) first.open = true;
  dl.disabled = false;
  const secrets = bundle.files.filter((f) => f.secret).length;
  $('team-meta').textContent =
    `${bundle.files.length} files · ${bundle.format}, ${bundle.replicas} ${bundle.replicas === 1 ? 'replica' : 'replicas'} · ` +
    (bundle.includeSecrets
      ? `${secrets} ${secrets === 1 ? 'file holds' : 'files hold'} your secrets: keep the download private`
      : 'no secret inside: the README says where to put each one');
}

export async function loadTeam() {
  const body = options();
  if (!body || busy) return;
  busy = true;
  const btn = /** @type {HTMLButtonElement} */ ($('btn-team-preview'));
  btn.classList.add('busy');
  btn.disabled = true;
  try {
    bundle = /** @type {TeamBundle} */ (await api.teamExport(body));
    $('team-error').hidden = true;
  } catch (err) {
    bundle = null;
    showError(err.message || 'The export failed.', err.field === 'replicas' ? $('team-replicas') : err.field === 'port' ? $('team-port') : undefined);
  } finally {
    busy = false;
    btn.classList.remove('busy');
    btn.disabled = false;
    renderBundle();
  }
}

/* ---------- a ustar archive of the files, in the browser ---------- */

const enc = new TextEncoder();

/** @param {Uint8Array} h @param {number} off @param {number} len @param {number} value */
function octal(h, off, len, value) {
  h.set(enc.encode(value.toString(8).padStart(len - 1, '0')), off);
}

/**
 * The files as a POSIX ustar archive under dir/ (directories included).
 * @param {string} dir @param {TeamFile[]} files @returns {Uint8Array<ArrayBuffer>}
 */
export function tarOf(dir, files) {
  /** @type {{path: string, mode: number, data: Uint8Array, type: string}[]} */
  const entries = [{ path: `${dir}/`, mode: 0o755, data: new Uint8Array(0), type: '5' }];
  const dirs = new Set();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = `${dir}/${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ path: d, mode: 0o755, data: new Uint8Array(0), type: '5' });
      }
    }
    entries.push({ path: `${dir}/${f.path}`, mode: parseInt(f.mode, 8) || 0o644, data: enc.encode(f.content), type: '0' });
  }
  const mtime = Math.floor(Date.now() / 1000);
  const blocks = [];
  for (const e of entries) {
    const h = new Uint8Array(512);
    const name = enc.encode(e.path);
    if (name.length > 99) throw new Error(`path too long for the archive: ${e.path}`);
    h.set(name, 0);
    octal(h, 100, 8, e.mode);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, e.data.length);
    octal(h, 136, 12, mtime);
    h.set(enc.encode('        '), 148);
    h.set(enc.encode(e.type), 156);
    h.set(enc.encode('ustar\u000000'), 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\u0000 `), 148);
    blocks.push(h, e.data, new Uint8Array((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of blocks) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

function download() {
  if (!bundle) return;
  const dir = `storj-registry-team-${bundle.format}`;
  const blob = new Blob([tarOf(dir, bundle.files)], { type: 'application/x-tar' });
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: `${dir}.tar`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  toast('success', `${dir}.tar saved: tar -xf ${dir}.tar, then read ${dir}/README.md`);
}

export function bindTeam() {
  $('btn-team-preview').addEventListener('click', () => loadTeam());
  $('btn-team-download').addEventListener('click', download);
  const secrets = /** @type {HTMLInputElement} */ ($('team-secrets'));
  const note = $('team-secrets-note');
  const sync = () => {
    note.hidden = !secrets.checked;
  };
  secrets.addEventListener('change', () => {
    sync();
    if (bundle) loadTeam();
  });
  $('team-format').addEventListener('change', () => {
    if (bundle) loadTeam();
  });
  sync();
  renderBundle();
}
