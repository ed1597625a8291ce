// @ts-check
// Stored images: what the running registry holds, deleting an image, and
// the clean-up (garbage collection). Refreshed when the registry starts,
// when the tab regains focus, and when logs.js sees a push. With the Docker
// Hub cache on, a switch lists what the cache holds instead (read-only:
// cached images expire, they are not deleted from here).

import { api } from './api.js';
import { state, onStatus, onRender, render, markUnreachable, poller, setStatus, runningEndpoint, currentState } from './state.js';
import { toast, copyText } from './desktop.js';
import { confirmDialog } from './dialogs.js';
import { el, icon, formatBytes, sentence } from './view.js';
import { cacheStatus, cacheRunning, cacheEndpoint, ttlWords } from './cache.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';
const DELETE_ICON = 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z';

function registryServes() {
  return currentState() === 'running' && !state.status?.job;
}

/** The list shows the cache: it is on and chosen. */
function showingCache() {
  return state.imagesSource === 'cache' && Boolean(cacheStatus());
}

/** Whether the registry the list shows answers. */
function sourceServes() {
  return registryServes() && (!showingCache() || cacheRunning());
}

// The first answer is small so that the tab shows something at once; the
// rest follows page by page (the backend answers nextOffset).
const FIRST_PAGE = 100;
const NEXT_PAGE = 1000;
// rows put into the table at a time; more as the list is scrolled
const ROW_STEP = 150;
const FILTER_DEBOUNCE_MS = 150;

/** what the table shows: the typed filter, how many rows, the paging */
const view = {
  filter: '',
  shown: ROW_STEP,
  /** pages still being read after the first */
  reading: false,
  /** why the pages after the first could not be read */
  restError: '',
  /** a newer load supersedes an older one */
  generation: 0,
};

/** @param {Repositories} page */
const reposOf = (page) => (Array.isArray(page?.repositories) ? page.repositories : []);

export async function loadImages() {
  if (state.imagesLoading || !sourceServes()) return;
  const gen = ++view.generation;
  const source = showingCache() ? 'cache' : 'pushed';
  state.imagesLoading = true;
  // a refresh keeps showing the list it has until the new one is read whole
  const progressive = state.images.kind !== 'data';
  if (progressive) state.images = { kind: 'loading' };
  renderImages();
  render();
  try {
    let page = await api.repositories(0, FIRST_PAGE, source);
    const repos = [...reposOf(page)];
    /** @type {Repositories} */
    const data = { ...page, repositories: repos };
    const more = () => page.nextOffset !== null && page.nextOffset !== undefined && gen === view.generation && sourceServes();
    view.restError = '';
    if (gen !== view.generation) return; // the other list was chosen meanwhile
    if (progressive || !more()) {
      view.reading = more();
      state.images = { kind: 'data', data };
      renderImages();
    }
    while (more()) {
      try {
        page = await api.repositories(Number(page.nextOffset), NEXT_PAGE, source);
      } catch (err) {
        if (err.unreachable) markUnreachable(err);
        view.restError = err.message || 'no answer';
        break;
      }
      repos.push(...reposOf(page));
      // each answer counts the blobs of its own repositories once
      data.totalSize = (Number(data.totalSize) || 0) + (Number(page.totalSize) || 0);
      data.truncated = page.truncated;
      data.nextOffset = page.nextOffset;
      data.total = page.total;
      data.totalKnown = page.totalKnown;
      if (progressive) renderImages();
    }
    if (gen === view.generation) {
      view.reading = false;
      state.images = { kind: 'data', data };
    }
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    if (gen === view.generation) state.images = err.status === 409 ? { kind: 'not-running', code: err.code } : { kind: 'error', message: err.message };
  } finally {
    if (gen === view.generation) {
      view.reading = false;
      state.imagesLoading = false;
    }
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

const number = (/** @type {number} */ n) => n.toLocaleString('en-US');
const repositories = (/** @type {number} */ n) => `${number(n)} repositor${n === 1 ? 'y' : 'ies'}`;

/**
 * The repositories and tags the filter lets through: a repository whose
 * name matches keeps every tag, otherwise the tags that match; "name:tag"
 * matches both parts. Case does not matter.
 * @param {RepoInfo[]} repos @param {string} filter
 * @returns {RepoInfo[]}
 */
export function filterRepos(repos, filter) {
  const q = filter.trim().toLowerCase();
  if (!q) return repos;
  const colon = q.lastIndexOf(':');
  const namePart = colon >= 0 ? q.slice(0, colon) : q;
  const tagPart = colon >= 0 ? q.slice(colon + 1) : null;
  /** @type {RepoInfo[]} */
  const out = [];
  for (const r of repos) {
    const name = String(r.name || '').toLowerCase();
    const tags = Array.isArray(r.tags) ? r.tags : [];
    if (tagPart !== null) {
      if (!name.includes(namePart)) continue;
      const t = tags.filter((x) => String(x.tag).toLowerCase().startsWith(tagPart));
      if (t.length || (!tagPart && !tags.length)) out.push({ ...r, tags: t });
    } else if (name.includes(q)) out.push(r);
    else {
      const t = tags.filter((x) => String(x.tag).toLowerCase().includes(q));
      if (t.length) out.push({ ...r, tags: t });
    }
  }
  return out;
}

/** @type {IntersectionObserver | null} */
let moreObserver = null;

function renderFilter(/** @type {RepoInfo[]} */ all, /** @type {RepoInfo[]} */ shown) {
  const row = $('images-filter-row');
  const count = $('images-count');
  const data = state.images.kind === 'data' ? state.images.data : null;
  row.hidden = !data || (!all.length && !view.filter);
  $('images-filter-clear').hidden = !(/** @type {HTMLInputElement} */ ($('images-filter')).value);
  const total = Math.max(Number(data?.total) || 0, all.length);
  // the backend reads the catalog as far as it answers: the total may not be known yet
  const reading = !view.reading ? '' : data?.totalKnown === false ? ` · reading, ${repositories(all.length)} so far…` : ` · reading ${number(all.length)} of ${repositories(total)}…`;
  const text = view.filter ? `${number(shown.length)} of ${repositories(all.length)}${reading}` : reading.replace(/^ · r/, 'R');
  if (count.textContent !== text) count.textContent = text;
}

export function renderImages() {
  const model = state.images;
  const box = $('images');
  const total = $('images-total');
  const cache = showingCache();
  const endpoint = cache ? cacheEndpoint() : runningEndpoint();
  moreObserver?.disconnect();
  if (model.kind !== 'data') {
    total.textContent = '';
    renderFilter([], []);
    const text =
      model.kind === 'error'
        ? sentence(`Could not read what the ${cache ? 'Docker Hub cache' : 'registry'} holds: ${model.message}`)
        : model.kind === 'loading'
          ? `Reading what the ${cache ? 'Docker Hub cache' : 'registry'} holds…`
          : cache
            ? notRunningCacheText()
            : 'Start the registry to see the images it holds.';
    box.replaceChildren(el('p', { class: `images-empty${model.kind === 'error' ? ' images-error' : ''}` }, text));
    return;
  }
  const all = reposOf(model.data);
  const repos = filterRepos(all, view.filter);
  renderFilter(all, repos);
  const tagCount = all.reduce((n, r) => n + (Array.isArray(r.tags) ? r.tags.length : 0), 0);
  total.textContent = all.length
    ? `${number(tagCount)} tag${tagCount === 1 ? '' : 's'} in ${repositories(all.length)} · ${formatBytes(Number(model.data.totalSize) || 0)} stored`
    : '';
  if (!all.length) {
    box.replaceChildren(
      cache
        ? el('p', { class: 'images-empty' }, `Nothing cached yet: pull through ${endpoint} (docker pull ${endpoint}/library/alpine, or any pull once Docker uses the mirror) and what Docker Hub sent shows here.`)
        : el(
            'div',
            { class: 'images-empty images-empty-push' },
            el('p', {}, 'No images yet. Tag an image with the registry’s address and push it.'),
            el('button', { type: 'button', class: 'btn btn-primary btn-small', 'data-action': 'push' }, 'Push an image'),
          ),
    );
    return;
  }
  if (!repos.length) {
    box.replaceChildren(el('p', { class: 'images-empty' }, `Nothing matches “${view.filter.trim()}”.`));
    return;
  }
  /** @type {HTMLElement[]} */
  const body = [];
  let rows = 0;
  let left = 0;
  for (const r of repos) {
    const tags = Array.isArray(r.tags) ? r.tags : [];
    if (rows >= view.shown) {
      left += Math.max(tags.length, 1);
      continue;
    }
    if (!tags.length) {
      rows++;
      body.push(el('tr', {}, el('td', { class: 'mono' }, r.name), el('td', { colspan: 3, class: 'muted small' }, 'No tags left: its images were deleted.')));
      continue;
    }
    for (const t of tags) {
      rows++;
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
            // cached images are not deleted here: they expire after the cache's TTL
            cache
              ? null
              : el(
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
    el('caption', { class: 'visually-hidden' }, cache ? 'Images in the Docker Hub cache' : 'Images in the registry'),
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
  if (left) {
    // the rest goes in when the user scrolls to it (or asks for it)
    const more = el('button', { type: 'button', class: 'btn btn-text btn-small images-more', 'data-more': '1' }, `Show ${number(Math.min(left, ROW_STEP))} more rows (${number(left)} not shown)`);
    box.append(more);
    if ('IntersectionObserver' in window) {
      moreObserver = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) showMore();
      });
      moreObserver.observe(more);
    }
  }
  if (view.restError) box.append(el('p', { class: 'muted small images-error' }, sentence(`Could not read the rest: ${view.restError}`)));
  else if (model.data.truncated && !view.reading && (model.data.nextOffset === null || model.data.nextOffset === undefined))
    box.append(el('p', { class: 'muted small' }, 'The registry holds more than can be listed here; the first ones are shown.'));
}

function showMore() {
  view.shown += ROW_STEP;
  renderImages();
}

/** Why the cache's list is empty: the registry is stopped, or the cache is not running. */
function notRunningCacheText() {
  if (!registryServes()) return 'Start the registry to see what the Docker Hub cache holds: the cache starts with it.';
  const c = cacheStatus();
  if (c?.state === 'starting') return 'The Docker Hub cache is starting…';
  const why = c?.error ? ' Its error is shown at the top.' : '';
  return `The Docker Hub cache is not running${c?.state === 'unhealthy' ? ' (it does not answer)' : ''}, so what it holds cannot be listed.${why} Restart the registry to start it again.`;
}

function renderMeta() {
  const lastGc = state.status?.lastGc;
  const p = $('images-meta');
  if (showingCache()) {
    const ttl = ttlWords(cacheStatus()?.ttl);
    p.textContent = ttl === 'forever' ? 'Cached images are read-only here and kept until you remove the cache’s storage.' : `Cached images are read-only here: each one expires ${ttl} after it was fetched.`;
    p.classList.remove('images-error');
    return;
  }
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

/** Shows the pushed images or the cache's. @param {'pushed' | 'cache'} source */
function chooseSource(source) {
  if (state.imagesSource === source) return;
  state.imagesSource = source;
  view.generation++; // a load of the other list in flight is dropped
  state.imagesLoading = false;
  view.reading = false;
  view.shown = ROW_STEP;
  state.images = { kind: 'not-running' };
  renderImages();
  render();
  loadImages();
}

/** The switch: shown while the cache is on; back to the pushed images when it goes off. */
function renderSource() {
  const on = Boolean(cacheStatus());
  $('images-source').hidden = !on;
  if (!on && state.imagesSource === 'cache') {
    state.imagesSource = 'pushed';
    view.generation++;
    state.imagesLoading = false;
    state.images = { kind: 'not-running' };
    renderImages();
    queueMicrotask(() => loadImages());
  }
  for (const b of /** @type {NodeListOf<HTMLElement>} */ ($('images-source').querySelectorAll('[data-source]')))
    b.setAttribute('aria-pressed', String(b.dataset.source === state.imagesSource));
}

export function bindImages() {
  $('images-source').addEventListener('click', (e) => {
    const b = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[data-source]'));
    if (b) chooseSource(b.dataset.source === 'cache' ? 'cache' : 'pushed');
  });
  $('btn-images').addEventListener('click', () => loadImages());
  $('btn-gc').addEventListener('click', cleanUp);
  const filter = /** @type {HTMLInputElement} */ ($('images-filter'));
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  const applyFilter = () => {
    clearTimeout(typing);
    $('images-filter-clear').hidden = !filter.value;
    if (view.filter === filter.value) return;
    view.filter = filter.value;
    view.shown = ROW_STEP;
    renderImages();
  };
  filter.addEventListener('input', () => {
    $('images-filter-clear').hidden = !filter.value;
    clearTimeout(typing);
    typing = setTimeout(applyFilter, FILTER_DEBOUNCE_MS);
  });
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') applyFilter();
    else if (e.key === 'Escape' && filter.value) {
      e.preventDefault();
      filter.value = '';
      applyFilter();
    }
  });
  $('images-filter-clear').addEventListener('click', () => {
    filter.value = '';
    applyFilter();
    filter.focus();
  });
  $('images').addEventListener('click', async (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    if (t.closest('[data-more]')) {
      showMore();
      return;
    }
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
    if (showingCache()) {
      // the cache's list follows the cache's own state
      const wasCacheServing = wasServing && before?.cache?.state === 'running';
      const cacheMoved = before?.cache?.endpoint !== state.status?.cache?.endpoint;
      if (sourceServes() && (!wasCacheServing || cacheMoved)) loadImages();
      else if (!sourceServes() && state.images.kind !== 'not-running' && !job) {
        state.images = { kind: 'not-running' };
        renderImages();
      } else if (!sourceServes() && before?.cache?.state !== state.status?.cache?.state) renderImages();
    } else if (registryServes() && (!wasServing || endpointChanged)) loadImages();
    else if (now !== 'running' && state.images.kind !== 'not-running' && !job) {
      state.images = { kind: 'not-running' };
      renderImages();
    }
  });

  onRender(() => {
    renderSource();
    const serving = sourceServes();
    /** @type {HTMLButtonElement} */ ($('btn-images')).disabled = !serving || state.imagesLoading;
    $('btn-images').classList.toggle('busy', state.imagesLoading);
    // the clean-up is the pushed images' (the cache's images expire by themselves)
    $('btn-gc').hidden = showingCache();
    /** @type {HTMLButtonElement} */ ($('btn-gc')).disabled = !registryServes() || Boolean(state.busy);
    $('btn-gc').classList.toggle('busy', state.busy === 'gc' || state.status?.job === 'gc');
    renderMeta();
  });

  // back to the tab: the user may have pushed from a terminal meanwhile
  const refresh = () => {
    if (!document.hidden && sourceServes()) loadImages();
  };
  window.addEventListener('focus', refresh);
  document.addEventListener('visibilitychange', refresh);
}
