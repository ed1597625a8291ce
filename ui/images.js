// @ts-check
// Stored images: what the running registry holds, deleting an image, and
// the clean-up (garbage collection). Refreshed when the registry starts,
// when the tab regains focus, and when logs.js sees a push.

import { api } from './api.js';
import { state, onStatus, onRender, render, markUnreachable, poller, setStatus, runningEndpoint, currentState } from './state.js';
import { toast, copyText } from './desktop.js';
import { confirmDialog } from './dialogs.js';
import { el, icon, formatBytes, sentence } from './view.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';
const DELETE_ICON = 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z';

function registryServes() {
  return currentState() === 'running' && !state.status?.job;
}

export async function loadImages() {
  if (state.imagesLoading || !registryServes()) return;
  state.imagesLoading = true;
  if (state.images.kind !== 'data') state.images = { kind: 'loading' };
  renderImages();
  render();
  try {
    state.images = { kind: 'data', data: await api.repositories() };
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    state.images = err.status === 409 ? { kind: 'not-running' } : { kind: 'error', message: err.message };
  } finally {
    state.imagesLoading = false;
    renderImages();
    render();
  }
}

/** @param {string} name @param {string} digest @param {string[]} tags */
async function deleteImage(name, digest, tags) {
  const list = tags.filter(Boolean);
  const ok = await confirmDialog({
    title: `Delete ${name}:${list[0] || digest.slice(0, 19)}?`,
    body:
      (list.length > 1 ? `The tags ${list.join(', ')} point at the same image and go with it. ` : '') +
      'The image is removed from the registry; its space is freed by the next clean-up.',
    confirm: 'Delete',
  });
  if (!ok) return;
  try {
    await api.deleteImage(name, digest);
    toast('success', `Deleted ${name}:${list.join(', ') || digest}.`);
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not delete ${name}: ${err.message}`);
  }
  loadImages();
}

async function cleanUp() {
  if (state.busy) return;
  const ok = await confirmDialog({
    title: 'Clean up the storage?',
    body: 'The registry restarts read-only, the layers that no image uses any more are deleted, and it restarts as before. Pulls keep working meanwhile; pushes are refused until it is done.',
    confirm: 'Clean up',
  });
  if (!ok) return;
  state.busy = 'gc';
  render();
  try {
    const res = await api.gc();
    if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
    toast('success', 'Cleaning up…');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not clean up: ${err.message}`);
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

/** @param {TagInfo} t */
function contentsOf(t) {
  if (t.kind === 'index') {
    const p = Array.isArray(t.platforms) && t.platforms.length ? t.platforms.join(', ') : 'several platforms';
    return `Multi-platform: ${p}`;
  }
  const n = Number(t.layers);
  return Number.isFinite(n) ? `${n} layer${n === 1 ? '' : 's'}` : '';
}

/** @param {string | undefined} d */
function shortDigest(d) {
  const m = /^sha256:([0-9a-f]{12})/.exec(d || '');
  return m ? m[1] : String(d || '').slice(0, 19);
}

export function renderImages() {
  const model = state.images;
  const box = $('images');
  const total = $('images-total');
  const endpoint = runningEndpoint();
  if (model.kind !== 'data') {
    total.textContent = '';
    const text =
      model.kind === 'error'
        ? sentence(`Could not read what the registry holds: ${model.message}`)
        : model.kind === 'loading'
          ? 'Reading what the registry holds…'
          : 'Start the registry to see the images it holds.';
    box.replaceChildren(el('p', { class: `images-empty${model.kind === 'error' ? ' images-error' : ''}` }, text));
    return;
  }
  const repos = Array.isArray(model.data?.repositories) ? model.data.repositories : [];
  const tagCount = repos.reduce((n, r) => n + (Array.isArray(r.tags) ? r.tags.length : 0), 0);
  total.textContent = repos.length
    ? `${tagCount} tag${tagCount === 1 ? '' : 's'} in ${repos.length} repositor${repos.length === 1 ? 'y' : 'ies'} · ${formatBytes(Number(model.data.totalSize) || 0)} stored`
    : '';
  if (!repos.length) {
    box.replaceChildren(el('p', { class: 'images-empty' }, 'No images yet. Push one with the commands above.'));
    return;
  }
  /** @type {HTMLElement[]} */
  const body = [];
  for (const r of repos) {
    const tags = Array.isArray(r.tags) ? r.tags : [];
    if (!tags.length) {
      body.push(el('tr', {}, el('td', { class: 'mono' }, r.name), el('td', { colspan: 3, class: 'muted small' }, 'No tags left: its images were deleted.')));
      continue;
    }
    for (const t of tags) {
      const ref = `${r.name}:${t.tag}`;
      const sharing = tags.filter((o) => o.digest === t.digest).map((o) => o.tag);
      body.push(
        el(
          'tr',
          {},
          el('td', { class: 'mono image-ref', title: t.digest || '' }, el('span', { class: 'repo' }, r.name), el('span', { class: 'tag' }, `:${t.tag}`), el('span', { class: 'digest muted' }, shortDigest(t.digest))),
          el('td', { class: 'num' }, t.kind === 'index' ? '—' : formatBytes(Number(t.size) || 0)),
          el('td', { class: 'muted contents' }, contentsOf(t)),
          el(
            'td',
            { class: 'row-actions' },
            el(
              'button',
              { type: 'button', class: 'btn-icon', 'data-pull': `docker pull ${endpoint}/${ref}`, 'aria-label': `Copy the pull command for ${ref}`, title: 'Copy docker pull' },
              icon(COPY_ICON),
            ),
            el(
              'button',
              {
                type: 'button',
                class: 'btn-icon danger',
                'data-delete': r.name,
                'data-digest': t.digest || '',
                'data-tags': sharing.join(','),
                'aria-label': `Delete ${ref}`,
                title: 'Delete',
              },
              icon(DELETE_ICON),
            ),
          ),
        ),
      );
    }
  }
  const table = el(
    'table',
    { class: 'images-table' },
    el('caption', { class: 'visually-hidden' }, 'Images in the registry'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Image'),
        el('th', { scope: 'col', class: 'num' }, 'Size'),
        el('th', { scope: 'col' }, 'Contents'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')),
      ),
    ),
    el('tbody', {}, body),
  );
  box.replaceChildren(table);
  if (model.data.truncated) box.append(el('p', { class: 'muted small' }, 'The registry holds more than can be listed here; the first ones are shown.'));
}

function renderMeta() {
  const lastGc = state.status?.lastGc;
  const p = $('images-meta');
  if (!lastGc || !lastGc.at) {
    p.textContent = 'Deleting an image frees its space after a clean-up.';
    p.classList.remove('images-error');
    return;
  }
  const when = new Date(lastGc.at);
  const at = Number.isNaN(when.getTime()) ? lastGc.at : when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  p.textContent = `Last clean-up ${at}: ${lastGc.ok ? '' : 'failed: '}${sentence(lastGc.message || (lastGc.ok ? 'done' : 'no details'))}`;
  p.classList.toggle('images-error', !lastGc.ok);
}

export function bindImages() {
  $('btn-images').addEventListener('click', () => loadImages());
  $('btn-gc').addEventListener('click', cleanUp);
  $('images').addEventListener('click', async (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    const pull = /** @type {HTMLElement | null} */ (t.closest('[data-pull]'));
    const del = /** @type {HTMLElement | null} */ (t.closest('[data-delete]'));
    if (pull) {
      try {
        await copyText(pull.dataset.pull || '');
        toast('success', `Copied: ${pull.dataset.pull}`);
      } catch {
        toast('error', 'Could not copy: select the command and copy it by hand.');
      }
    } else if (del) {
      deleteImage(del.dataset.delete || '', del.dataset.digest || '', (del.dataset.tags || '').split(','));
    }
  });

  onStatus((before) => {
    const now = state.status?.state;
    const job = state.status?.job;
    const wasServing = before?.state === 'running' && !before?.job;
    if (before?.job === 'gc' && job !== 'gc') {
      const g = state.status?.lastGc;
      if (g) toast(g.ok ? 'success' : 'error', `Clean-up ${g.ok ? 'done' : 'failed'}: ${g.message || ''}`.trim());
    }
    const endpointChanged = before?.endpoint !== state.status?.endpoint;
    if (registryServes() && (!wasServing || endpointChanged)) loadImages();
    else if (now !== 'running' && state.images.kind !== 'not-running' && !job) {
      state.images = { kind: 'not-running' };
      renderImages();
    }
  });

  onRender(() => {
    const serving = registryServes();
    /** @type {HTMLButtonElement} */ ($('btn-images')).disabled = !serving || state.imagesLoading;
    $('btn-images').classList.toggle('busy', state.imagesLoading);
    /** @type {HTMLButtonElement} */ ($('btn-gc')).disabled = !serving || Boolean(state.busy);
    $('btn-gc').classList.toggle('busy', state.busy === 'gc' || state.status?.job === 'gc');
    renderMeta();
  });

  // back to the tab: the user may have pushed from a terminal meanwhile
  const refresh = () => {
    if (!document.hidden && registryServes()) loadImages();
  };
  window.addEventListener('focus', refresh);
  document.addEventListener('visibilitychange', refresh);
}
