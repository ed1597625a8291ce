// @ts-check
// One image in a side panel, opened from its row in Images: what the
// backend's answer says of it (GET /api/repositories, from the index or
// from the registry), and nothing it does not say: the index answers each
// platform's digest and size, dates, who pushed and the pulls; the
// registry's own answer the platform names and a layer count. As it opens,
// the panel asks for the image itself (GET /api/repositories/{name}/
// manifests/{digest}): each platform's layers and labels, shown below with
// "Loading…" meanwhile and an error line when that fails.
// A modal <dialog> at the right edge: Esc or Close closes it, the focus
// goes back to the row it was opened from (images.js finds it again after
// a refresh).

import { el, icon, formatBytes, shortDate } from './view.js';
import { toast, copyText } from './desktop.js';
import { api } from './api.js';

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';

/**
 * @typedef {object} PanelImage
 * @property {string} repository
 * @property {TagInfo} tag the tag the panel was opened for
 * @property {string[]} tags every tag of the repository on the same digest
 * @property {string} endpoint the registry's address (for docker pull)
 * @property {boolean} readOnly the Docker Hub cache's images: no delete
 * @property {() => Promise<boolean>} remove the delete with its confirmation; true when it went
 * @property {() => void} focusBack gives the focus back to the row
 */

const dialog = () => /** @type {HTMLDialogElement} */ (document.getElementById('image-panel'));

/** @type {PanelImage | null} */
let current = null;

/** The platforms' names, from either answer (objects from the index, names from the registry). @param {TagInfo} t */
export function platformNames(t) {
  return (Array.isArray(t.platforms) ? t.platforms : []).map((p) => (typeof p === 'string' ? p : p && p.platform) || '').filter(Boolean);
}

/** 'Not known' for what the index knows it does not know (a null), nothing for what the answer has not. */
const NOT_KNOWN = 'Not known';

/** @param {string | null | undefined} iso */
function when(iso) {
  const text = shortDate(iso);
  return text ? el('time', { datetime: iso }, text) : NOT_KNOWN;
}

/** @param {string} digest @param {string} what */
function digestWithCopy(digest, what) {
  return el(
    'span',
    { class: 'panel-digest' },
    el('code', { class: 'mono' }, digest),
    el('button', { type: 'button', class: 'btn-icon', 'data-copy-digest': digest, 'aria-label': `Copy the digest of ${what}`, title: 'Copy the digest' }, icon(COPY_ICON)),
  );
}

/** @param {PanelImage} a */
function factsOf(a) {
  const t = a.tag;
  const ref = `${a.repository}:${t.tag}`;
  /** @type {HTMLElement[]} */
  const rows = [];
  /** @param {string} label @param {any} value @param {string} [cls] */
  const add = (label, value, cls = '') => rows.push(el('div', { class: `panel-fact ${cls}`.trim() }, el('dt', {}, label), el('dd', {}, value)));
  const has = (/** @type {string} */ k) => Object.prototype.hasOwnProperty.call(t, k);

  add('Repository', el('span', { class: 'mono' }, a.repository));
  add('Tags on this image', el('ul', { class: 'panel-tags' }, a.tags.map((x) => el('li', { class: 'chip mono' }, x))));
  if (t.digest) add('Digest', digestWithCopy(t.digest, ref), 'panel-wide');
  const names = platformNames(t);
  if (t.kind === 'index') add('Kind', `Multi-platform image (${names.length || 'several'} platform${names.length === 1 ? '' : 's'})`);
  else if (t.kind === 'image') add('Kind', 'Image');
  if (t.mediaType) add('Media type', el('span', { class: 'mono' }, t.mediaType), 'panel-wide');
  if (typeof t.size === 'number' && Number.isFinite(t.size)) add('Size', formatBytes(t.size));
  else if (has('size') && t.size === null) add('Size', NOT_KNOWN);
  // the registry's answer counts an image's layers (not for an index: its platforms have them)
  if (t.kind === 'image' && typeof t.layers === 'number') add('Layers', String(t.layers));
  if (has('created')) add('Created', when(t.created));
  if (has('pushed')) add('Pushed', when(t.pushed));
  if (has('pushedBy')) add('Pushed by', t.pushedBy ? el('span', { class: 'mono' }, t.pushedBy) : NOT_KNOWN);
  if (has('lastPulled')) add('Last pulled', when(t.lastPulled));
  if (typeof t.pulls === 'number') add('Pulls', t.pulls.toLocaleString('en-US'));
  return el('dl', { class: 'panel-facts' }, rows);
}

/** Each platform: with its digest and size when the answer has them (the index), else its name. @param {PanelImage} a */
function platformsOf(a) {
  const list = Array.isArray(a.tag.platforms) ? a.tag.platforms : [];
  if (!list.length) return null;
  const detailed = list.some((p) => typeof p === 'object' && p !== null);
  const ref = `${a.repository}:${a.tag.tag}`;
  /** @type {HTMLElement[]} */
  const rows = list.map((p) => {
    if (typeof p === 'string') return el('tr', {}, el('td', { class: 'mono' }, p));
    return el(
      'tr',
      {},
      el('td', { class: 'mono' }, p.platform || NOT_KNOWN),
      el('td', { class: 'panel-platform-digest' }, p.digest ? digestWithCopy(p.digest, `${ref} for ${p.platform || 'this platform'}`) : NOT_KNOWN),
      el('td', { class: 'num' }, typeof p.size === 'number' ? formatBytes(p.size) : NOT_KNOWN),
    );
  });
  return el(
    'section',
    { class: 'panel-section', 'aria-labelledby': 'image-panel-platforms' },
    el('h3', { id: 'image-panel-platforms' }, 'Platforms'),
    el(
      'table',
      { class: 'panel-platforms' },
      el(
        'thead',
        {},
        el('tr', {}, el('th', { scope: 'col' }, 'Platform'), detailed ? el('th', { scope: 'col' }, 'Digest') : null, detailed ? el('th', { scope: 'col', class: 'num' }, 'Size') : null),
      ),
      el('tbody', {}, rows),
    ),
    detailed ? null : el('p', { class: 'muted small' }, 'Each platform’s digest and size show once the backend’s index has read the registry.'),
  );
}

/** A digest cut to its first 12 hex digits, the whole one in the title. @param {string} digest */
function shortDigest(digest) {
  return digest.slice(0, 19);
}

/** One platform's layers and labels. @param {PlatformDetail} p @param {string} ref */
function platformDetail(p, ref) {
  const layers = Array.isArray(p.layers) ? p.layers : [];
  const labels = p.labels && typeof p.labels === 'object' ? Object.entries(p.labels) : [];
  const name = p.platform || NOT_KNOWN;
  const count = `${layers.length}${p.layersTruncated ? '+' : ''} layer${layers.length === 1 && !p.layersTruncated ? '' : 's'}`;
  return el(
    'div',
    { class: 'panel-platform-detail' },
    el('h4', {}, el('span', { class: 'mono' }, name), el('span', { class: 'muted' }, ` · ${count}${typeof p.size === 'number' ? ` · ${formatBytes(p.size)}` : ''}`)),
    layers.length
      ? el(
          'table',
          { class: 'panel-layers' },
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Layer'), el('th', { scope: 'col', class: 'num' }, 'Size'))),
          el(
            'tbody',
            {},
            layers.map((l, i) =>
              el(
                'tr',
                {},
                el(
                  'td',
                  { class: 'panel-layer-digest' },
                  l.digest
                    ? el(
                        'span',
                        { class: 'panel-digest' },
                        el('code', { class: 'mono', title: l.digest }, shortDigest(l.digest)),
                        el('button', { type: 'button', class: 'btn-icon', 'data-copy-digest': l.digest, 'aria-label': `Copy the digest of layer ${i + 1} of ${ref} for ${name}`, title: 'Copy the digest' }, icon(COPY_ICON)),
                      )
                    : NOT_KNOWN,
                ),
                el('td', { class: 'num' }, typeof l.size === 'number' ? formatBytes(l.size) : NOT_KNOWN),
              ),
            ),
          ),
        )
      : null,
    el('h5', {}, 'Labels'),
    labels.length
      ? el(
          'ul',
          { class: 'panel-labels' },
          labels.map(([k, v]) => el('li', { class: 'mono' }, el('span', { class: 'panel-label-key' }, k), ' = ', el('span', {}, String(v)))),
        )
      : el('p', { class: 'muted small' }, 'No labels'),
  );
}

/** The section of layers and labels: Loading…, the answer, or an error line. @param {PanelImage} a @param {{loading?: boolean, detail?: ImageDetail, error?: string}} st */
function detailsOf(a, st) {
  const ref = `${a.repository}:${a.tag.tag}`;
  const head = el('h3', { id: 'image-panel-layers' }, 'Layers and labels');
  /** @type {(HTMLElement | null)[]} */
  let body;
  if (st.loading) body = [el('p', { class: 'muted small', role: 'status' }, 'Loading…')];
  else if (st.error) body = [el('p', { class: 'panel-detail-error small', role: 'alert' }, `Could not read the layers and labels: ${st.error}`)];
  else {
    const plats = (st.detail && Array.isArray(st.detail.platforms) ? st.detail.platforms : []);
    body = plats.length ? plats.map((p) => platformDetail(p, ref)) : [el('p', { class: 'muted small' }, 'The registry names no platform of this image.')];
    if (st.detail && st.detail.truncated) body.push(el('p', { class: 'muted small' }, 'Too much to show at once: some platforms or labels are left out.'));
  }
  return el('section', { class: 'panel-section', id: 'image-panel-details', 'aria-labelledby': 'image-panel-layers', 'aria-busy': st.loading ? 'true' : 'false' }, head, ...body);
}

/** Asks for the image's layers and labels and shows them while the panel still shows it. @param {PanelImage} a */
async function loadDetails(a) {
  const show = (/** @type {{loading?: boolean, detail?: ImageDetail, error?: string}} */ st) => {
    if (current !== a) return;
    document.getElementById('image-panel-details')?.replaceWith(detailsOf(a, st));
  };
  const digest = a.tag.digest || '';
  try {
    const detail = await api.image(a.repository, digest);
    show({ detail });
  } catch (err) {
    show({ error: (err && /** @type {Error} */ (err).message) || 'the request failed' });
  }
}

/** Opens the panel for one image (or shows another one in it). @param {PanelImage} a */
export function openImagePanel(a) {
  const dlg = dialog();
  current = a;
  const ref = `${a.repository}:${a.tag.tag}`;
  document.getElementById('image-panel-title')?.replaceChildren(el('span', { class: 'mono' }, ref));
  const pull = `docker pull ${a.endpoint}/${ref}`;
  /** @type {HTMLElement[]} */
  const parts = [
    factsOf(a),
    platformsOf(a),
    // the Docker Hub cache's images are not read one by one
    !a.readOnly && a.tag.digest ? detailsOf(a, { loading: true }) : null,
    el(
      'div',
      { class: 'panel-actions' },
      el('button', { type: 'button', class: 'btn btn-outlined btn-small', 'data-panel-pull': pull }, 'Copy docker pull'),
      a.readOnly ? null : el('button', { type: 'button', class: 'btn btn-danger-outlined btn-small', 'data-panel-delete': '1' }, 'Delete…'),
    ),
    a.readOnly ? el('p', { class: 'muted small' }, 'Cached images are read-only: they expire by themselves.') : null,
  ].filter((x) => x !== null);
  document.getElementById('image-panel-body')?.replaceChildren(...parts);
  if (!dlg.open) dlg.showModal();
  document.getElementById('image-panel-close')?.focus();
  if (!a.readOnly && a.tag.digest) loadDetails(a);
}

/** Whether the panel is open (on which image). */
export function panelImage() {
  return dialog().open ? current : null;
}

export function bindImagePanel() {
  const dlg = dialog();
  document.getElementById('image-panel-close')?.addEventListener('click', () => dlg.close());
  dlg.addEventListener('click', async (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    if (t === dlg) {
      dlg.close(); // the backdrop
      return;
    }
    const copy = /** @type {HTMLElement | null} */ (t.closest('[data-copy-digest]'));
    const pull = /** @type {HTMLElement | null} */ (t.closest('[data-panel-pull]'));
    if (copy || pull) {
      const text = copy ? copy.dataset.copyDigest || '' : (pull && pull.dataset.panelPull) || '';
      try {
        await copyText(text);
        toast('success', copy ? 'Digest copied.' : `Copied: ${text}`);
      } catch {
        toast('error', 'Could not copy: select the text and copy it by hand.');
      }
      return;
    }
    if (t.closest('[data-panel-delete]') && current) {
      const gone = await current.remove();
      if (gone && dlg.open) dlg.close();
    }
  });
  dlg.addEventListener('close', () => {
    const a = current;
    current = null;
    a?.focusBack();
  });
}
