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
import { el, icon, formatBytes, sentence, shortDate } from './view.js';
import { cacheStatus, cacheRunning, cacheEndpoint, ttlWords } from './cache.js';
import { openImagePanel, bindImagePanel, platformNames } from './imagepanel.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';
const PULL_ICON = 'M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z';
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
  /** @type {'name' | 'size' | 'created' | 'pushed' | 'pulled'} */
  sort: /** @type {'name' | 'size' | 'created' | 'pushed' | 'pulled'} */ ('name'),
  /** @type {'asc' | 'desc'} */
  order: /** @type {'asc' | 'desc'} */ ('asc'),
  /** repositories opened (a long list starts closed) or closed (a short one starts open) */
  opened: new Set(),
  closed: new Set(),
  /** selected images, as "name@digest" */
  selected: new Set(),
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
    // the index answers at once once it has read the registry whole
    const fromIndex = source === 'pushed' && !!state.status?.index?.reconciledAt;
    let page = await api.repositories(0, FIRST_PAGE, source, fromIndex);
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
        page = await api.repositories(Number(page.nextOffset), NEXT_PAGE, source, fromIndex);
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

/**
 * Deletes one image (every tag on it) after a confirmation; true when it went.
 * @param {string} name @param {string} digest @param {string[]} tags
 * @returns {Promise<boolean>}
 */
async function deleteImage(name, digest, tags) {
  const list = tags.filter(Boolean);
  const ok = await confirmDialog({
    title: `Delete ${name}:${list[0] || digest.slice(0, 19)}?`,
    body:
      (list.length > 1 ? `The tags ${list.join(', ')} point at the same image and go with it. ` : '') +
      'The image is removed from the registry; its space is freed by the next Free up space.',
    confirm: 'Delete',
  });
  if (!ok) return false;
  let gone = false;
  try {
    await api.deleteImage(name, digest);
    gone = true;
    toast('success', `Deleted ${name}:${list.join(', ') || digest}.`);
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not delete ${name}: ${err.message}`);
  }
  loadImages();
  return gone;
}

async function cleanUp() {
  if (state.busy) return;
  const ok = await confirmDialog({
    title: 'Free up space?',
    body: 'Deletes the layers that no image uses any more (what deleted images left behind). The registry restarts read-only, then as before: pulls keep working meanwhile, pushes are refused until it is done.',
    confirm: 'Free up space',
  });
  if (!ok) return;
  state.busy = 'gc';
  render();
  try {
    const res = await api.gc();
    if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
    toast('success', 'Freeing up space…');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not free up space: ${err.message}`);
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

/** @param {TagInfo} t */
function contentsOf(t) {
  if (t.kind === 'index') {
    // names from the registry's answer, {platform, digest, size} from the index's
    const names = platformNames(t);
    const p = names.length ? names.join(', ') : 'several platforms';
    return `Multi-platform: ${p}`;
  }
  // the registry's answer counts an image's layers; the index names its platform
  if (typeof t.layers === 'number') return `${t.layers} layer${t.layers === 1 ? '' : 's'}`;
  return platformNames(t).join(', ');
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

/** The row whose name (a tag's) or toggle (a repository's) has the focus, to give it back after the table is drawn again. */
function focusedRow() {
  const a = /** @type {HTMLElement | null} */ (document.activeElement);
  if (!a || !$('images').contains(a)) return null;
  if (a.dataset.toggle !== undefined) return { repo: a.dataset.toggle, tag: null };
  const row = a.dataset.open !== undefined ? /** @type {HTMLElement | null} */ (a.closest('tr.tag-row')) : null;
  return row ? { repo: row.dataset.repo || '', tag: row.dataset.tag || '' } : null;
}

/**
 * Focus on a tag's row (its name), or on its repository when the tag went
 * (or tag is null), or on the search or Refresh when that went too.
 * @param {string} repo @param {string | null} tag
 */
function focusRow(repo, tag) {
  const box = $('images');
  const q = (/** @type {string} */ sel) => /** @type {HTMLElement | null} */ (box.querySelector(sel));
  const target =
    (tag !== null ? q(`tr.tag-row[data-repo="${CSS.escape(repo)}"][data-tag="${CSS.escape(tag)}"] [data-open]`) : null) ||
    q(`[data-toggle="${CSS.escape(repo)}"]`) ||
    (!$('images-filter-row').hidden ? $('images-filter') : $('btn-images'));
  target.focus();
}

/** Draws the list; the focus stays on the row it was on (or its repository). */
export function renderImages() {
  const keep = focusedRow();
  drawImages();
  if (keep && !$('images').contains(document.activeElement)) focusRow(keep.repo, keep.tag);
}

/** Opens the side panel on one tag of the loaded list. @param {string} repo @param {string} tag */
function openPanel(repo, tag) {
  const data = state.images.kind === 'data' ? state.images.data : null;
  const r = reposOf(/** @type {Repositories} */ (data)).find((x) => x.name === repo);
  const t = r && (r.tags || []).find((x) => x.tag === tag);
  if (!r || !t) return;
  const sharing = (r.tags || []).filter((o) => o.digest === t.digest).map((o) => o.tag);
  const cache = showingCache();
  openImagePanel({
    repository: repo,
    tag: t,
    tags: sharing,
    endpoint: cache ? cacheEndpoint() : runningEndpoint(),
    readOnly: cache,
    remove: () => deleteImage(repo, t.digest || '', sharing),
    focusBack: () => focusRow(repo, tag),
  });
}

function drawImages() {
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
  const cols = columnsOf(all);
  const sorted = sortRepos(repos);
  // a repository opens to its tags; a search opens what it found, a short list is open
  const openAll = Boolean(view.filter.trim()) || all.length <= OPEN_UP_TO;
  /** @type {HTMLElement[]} */
  const body = [];
  let rows = 0;
  let left = 0;
  for (const r of sorted) {
    const tags = sortTags(Array.isArray(r.tags) ? r.tags : []);
    const open = openAll ? !view.closed.has(r.name) : view.opened.has(r.name);
    const want = 1 + (open ? tags.length : 0);
    if (rows >= view.shown) {
      left += want;
      continue;
    }
    rows += want;
    body.push(repoRow(r, tags, open, cols, cache));
    if (!open) continue;
    if (!tags.length) {
      body.push(el('tr', { class: 'tag-row' }, el('td', {}), el('td', { colspan: cols.length + 3, class: 'muted small' }, 'No tags left: its images were deleted.')));
      continue;
    }
    for (const t of tags) body.push(tagRow(r, t, tags, cols, cache, endpoint));
  }
  const sortable = (/** @type {string} */ key, /** @type {string} */ label, /** @type {string} */ cls = '') => {
    const on = view.sort === key;
    return el(
      'th',
      { scope: 'col', class: cls, 'aria-sort': on ? (view.order === 'asc' ? 'ascending' : 'descending') : null },
      el('button', { type: 'button', class: 'sort-btn', 'data-sort': key }, label, el('span', { class: 'sort-mark', 'aria-hidden': 'true' }, on ? (view.order === 'asc' ? '▲' : '▼') : '')),
    );
  };
  const table = el(
    'table',
    { class: 'images-table' },
    el('caption', { class: 'visually-hidden' }, cache ? 'Images in the Docker Hub cache, by repository' : 'Images in the registry, by repository'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col', class: 'check-col' }, cache ? el('span', { class: 'visually-hidden' }, 'Select') : el('input', { type: 'checkbox', 'data-select-all': '1', 'aria-label': 'Select every image shown', checked: view.selected.size > 0 && selectedAll(sorted) })),
        sortable('name', 'Name'),
        el('th', { scope: 'col' }, 'Digest'),
        el('th', { scope: 'col' }, 'Platforms'),
        cols.includes('created') ? sortable('created', 'Created') : null,
        cols.includes('pushed') ? sortable('pushed', 'Pushed') : null,
        cols.includes('lastPulled') ? sortable('pulled', 'Last pulled') : null,
        cols.includes('pulls') ? el('th', { scope: 'col', class: 'num' }, 'Pulls') : null,
        sortable('size', 'Size', 'num'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')),
      ),
    ),
    el('tbody', {}, body),
  );
  box.replaceChildren(table);
  renderBulk();
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
  const idx = model.data.index;
  if (idx && idx.reconciledAt) box.append(el('p', { class: 'muted small images-asof' }, `As of ${shortDate(idx.reconciledAt)}${idx.state && idx.state !== 'ready' ? ` (index ${idx.state})` : ''}.`));
}

/* ---------- the table's parts ---------- */

// up to this many repositories, every one is open
const OPEN_UP_TO = 10;

/** The optional columns that any loaded tag or repository has a value for. @param {RepoInfo[]} repos */
function columnsOf(repos) {
  const has = { created: false, pushed: false, lastPulled: false, pulls: false };
  for (const r of repos) {
    if (r.pushed) has.pushed = true;
    if (r.lastPulled) has.lastPulled = true;
    if (typeof r.pulls === 'number') has.pulls = true;
    for (const t of r.tags || []) {
      if (t.created) has.created = true;
      if (t.pushed) has.pushed = true;
      if (t.lastPulled) has.lastPulled = true;
      if (typeof t.pulls === 'number') has.pulls = true;
    }
    if (has.created && has.pushed && has.lastPulled && has.pulls) break;
  }
  return /** @type {Array<keyof typeof has>} */ (Object.keys(has)).filter((k) => has[k]);
}

/** @param {string | undefined} iso */
const timeOf = (iso) => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? -Infinity : t;
};

/** @param {TagInfo} t @param {string} key */
function tagKey(t, key) {
  if (key === 'size') return Number(t.size) || 0;
  if (key === 'created') return timeOf(t.created);
  if (key === 'pushed') return timeOf(t.pushed);
  if (key === 'pulled') return timeOf(t.lastPulled);
  return String(t.tag);
}

/** @param {RepoInfo} r @param {string} key */
function repoKey(r, key) {
  const tags = r.tags || [];
  const newest = (/** @type {(t: TagInfo) => number} */ f) => tags.reduce((m, t) => Math.max(m, f(t)), -Infinity);
  if (key === 'size') return Number(r.size) || tags.reduce((n, t) => n + (Number(t.size) || 0), 0);
  if (key === 'created') return newest((t) => timeOf(t.created));
  if (key === 'pushed') return r.pushed ? timeOf(r.pushed) : newest((t) => timeOf(t.pushed));
  if (key === 'pulled') return r.lastPulled ? timeOf(r.lastPulled) : newest((t) => timeOf(t.lastPulled));
  return String(r.name);
}

/** @param {string | number} a @param {string | number} b */
function cmp(a, b) {
  const c = typeof a === 'string' && typeof b === 'string' ? a.localeCompare(b, undefined, { numeric: true }) : a < b ? -1 : a > b ? 1 : 0;
  return view.order === 'asc' ? c : -c;
}

/** @param {RepoInfo[]} repos */
function sortRepos(repos) {
  if (view.sort === 'name' && view.order === 'asc') return repos; // the backend's order
  return [...repos].sort((a, b) => cmp(repoKey(a, view.sort), repoKey(b, view.sort)) || String(a.name).localeCompare(String(b.name)));
}

/** @param {TagInfo[]} tags */
function sortTags(tags) {
  if (view.sort === 'name' && view.order === 'asc') return tags;
  return [...tags].sort((a, b) => cmp(tagKey(a, view.sort), tagKey(b, view.sort)));
}

/** A selection key: one image of one repository. @param {string} name @param {string | undefined} digest */
const selKey = (name, digest) => `${name}@${digest || ''}`;

/** @param {RepoInfo[]} repos */
function selectedAll(repos) {
  return repos.every((r) => (r.tags || []).every((t) => view.selected.has(selKey(r.name, t.digest))));
}

/** @param {string | undefined} iso @param {boolean} [dash] '—' when absent */
function dateCell(iso, dash = true) {
  const text = shortDate(iso);
  return el('td', { class: 'date', title: iso || null }, text || (dash ? el('span', { class: 'muted' }, '—') : ''));
}

/**
 * @param {RepoInfo} r @param {TagInfo[]} tags @param {boolean} open
 * @param {string[]} cols @param {boolean} cache
 */
function repoRow(r, tags, open, cols, cache) {
  const count = typeof r.tagCount === 'number' ? r.tagCount : tags.length;
  const size = Number(r.size) || tags.reduce((n, t) => n + (Number(t.size) || 0), 0);
  const all = tags.length > 0 && tags.every((t) => view.selected.has(selKey(r.name, t.digest)));
  return el(
    'tr',
    { class: 'repo-row', dataset: { repo: r.name } },
    el('td', { class: 'check-col' }, cache || !tags.length ? null : el('input', { type: 'checkbox', 'data-select-repo': r.name, 'aria-label': `Select every tag of ${r.name}`, checked: all })),
    el(
      'th',
      { scope: 'row', class: 'repo-name' },
      el(
        'button',
        { type: 'button', class: 'expand', 'data-toggle': r.name, 'aria-expanded': String(open) },
        el('span', { class: 'chev', 'aria-hidden': 'true' }, open ? '▾' : '▸'),
        el('span', { class: 'mono' }, r.name),
      ),
      el('span', { class: 'muted small tag-count' }, `${number(count)} tag${count === 1 ? '' : 's'}`),
    ),
    el('td', {}),
    el('td', {}),
    cols.includes('created') ? dateCell(undefined, false) : null,
    cols.includes('pushed') ? dateCell(r.pushed, false) : null,
    cols.includes('lastPulled') ? dateCell(r.lastPulled, false) : null,
    cols.includes('pulls') ? el('td', { class: 'num' }, typeof r.pulls === 'number' ? number(r.pulls) : '') : null,
    el('td', { class: 'num' }, size ? formatBytes(size) : ''),
    el('td', {}),
  );
}

/**
 * @param {RepoInfo} r @param {TagInfo} t @param {TagInfo[]} tags
 * @param {string[]} cols @param {boolean} cache @param {string} endpoint
 */
function tagRow(r, t, tags, cols, cache, endpoint) {
  const ref = `${r.name}:${t.tag}`;
  const sharing = tags.filter((o) => o.digest === t.digest).map((o) => o.tag);
  const key = selKey(r.name, t.digest);
  return el(
    'tr',
    { class: 'tag-row', dataset: { repo: r.name, tag: t.tag } },
    el('td', { class: 'check-col' }, cache ? null : el('input', { type: 'checkbox', 'data-select': key, 'aria-label': `Select ${ref}`, checked: view.selected.has(key) })),
    el(
      'td',
      { class: 'mono image-ref' },
      // opens the image's side panel (so does a click anywhere on the row)
      el(
        'button',
        { type: 'button', class: 'tag-open', 'data-open': '1', 'aria-haspopup': 'dialog', title: `Details of ${ref}` },
        el('span', { class: 'visually-hidden' }, r.name),
        el('span', { class: 'tag' }, `:${t.tag}`),
      ),
      t.pushedBy ? el('span', { class: 'muted small pushed-by' }, ` by ${t.pushedBy}`) : null,
    ),
    el(
      'td',
      { class: 'digest-cell' },
      el('span', { class: 'mono digest', title: t.digest || '' }, t.digest || ''),
      t.digest ? el('button', { type: 'button', class: 'btn-icon copy-digest', 'data-copy-digest': t.digest, 'aria-label': `Copy the digest of ${ref}`, title: 'Copy the digest' }, icon(COPY_ICON)) : null,
    ),
    el('td', { class: 'muted contents' }, contentsOf(t)),
    cols.includes('created') ? dateCell(t.created) : null,
    cols.includes('pushed') ? dateCell(t.pushed) : null,
    cols.includes('lastPulled') ? dateCell(t.lastPulled) : null,
    cols.includes('pulls') ? el('td', { class: 'num' }, typeof t.pulls === 'number' ? number(t.pulls) : '') : null,
    el('td', { class: 'num' }, Number.isFinite(Number(t.size)) && t.size !== undefined ? formatBytes(Number(t.size)) : '—'),
    el(
      'td',
      { class: 'row-actions' },
      el('button', { type: 'button', class: 'btn-icon', 'data-pull': `docker pull ${endpoint}/${ref}`, 'aria-label': `Copy the pull command for ${ref}`, title: 'Copy docker pull' }, icon(PULL_ICON)),
      // cached images are not deleted here: they expire after the cache's TTL
      cache
        ? null
        : el(
            'button',
            { type: 'button', class: 'btn-icon danger', 'data-delete': r.name, 'data-digest': t.digest || '', 'data-tags': sharing.join(','), 'aria-label': `Delete ${ref}`, title: 'Delete' },
            icon(DELETE_ICON),
          ),
    ),
  );
}

/** The bulk delete button: shown with a selection, naming how many. */
function renderBulk() {
  const b = /** @type {HTMLButtonElement} */ ($('btn-bulk-delete'));
  const n = view.selected.size;
  b.hidden = n === 0 || showingCache();
  b.textContent = `Delete ${number(n)} selected…`;
}

/** Every image of the loaded list, by selection key: its repository, digest and tags. */
function imagesByKey() {
  /** @type {Map<string, {name: string, digest: string, tags: string[]}>} */
  const m = new Map();
  const data = state.images.kind === 'data' ? state.images.data : null;
  for (const r of reposOf(/** @type {Repositories} */ (data))) {
    for (const t of r.tags || []) {
      const k = selKey(r.name, t.digest);
      const e = m.get(k) || { name: r.name, digest: t.digest || '', tags: [] };
      e.tags.push(t.tag);
      m.set(k, e);
    }
  }
  return m;
}

async function bulkDelete() {
  const all = imagesByKey();
  const chosen = [...view.selected].map((k) => all.get(k)).filter((x) => x !== undefined);
  if (!chosen.length) return;
  const names = chosen.map((c) => `${c.name}:${c.tags.join(', :')}`);
  const shown = names.slice(0, 8).join('; ') + (names.length > 8 ? `; and ${names.length - 8} more` : '');
  const tags = chosen.reduce((n, c) => n + c.tags.length, 0);
  const ok = await confirmDialog({
    title: `Delete ${chosen.length} image${chosen.length === 1 ? '' : 's'} (${tags} tag${tags === 1 ? '' : 's'})?`,
    body: `These go, with every tag that points at them: ${shown}. Their space is freed by the next Free up space.`,
    confirm: 'Delete',
  });
  if (!ok) return;
  let done = 0;
  /** @type {string[]} */
  const failed = [];
  for (const c of chosen) {
    try {
      await api.deleteImage(c.name, c.digest);
      done++;
      view.selected.delete(selKey(c.name, c.digest));
    } catch (err) {
      if (err.unreachable) markUnreachable(err);
      failed.push(`${c.name}: ${err.message}`);
    }
  }
  if (failed.length) toast('error', `Deleted ${done} of ${chosen.length}; not deleted: ${failed.join('; ')}`);
  else toast('success', `Deleted ${done} image${done === 1 ? '' : 's'}.`);
  loadImages();
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
  const last = $('gc-last');
  if (!lastGc || !lastGc.at) last.textContent = '';
  else {
    const at = shortDate(lastGc.at) || lastGc.at;
    last.textContent = `Last run ${at}${lastGc.ok ? '' : ': failed'}`;
    last.title = sentence(lastGc.message || '');
  }
  last.classList.toggle('images-error', Boolean(lastGc && lastGc.at && !lastGc.ok));
  last.hidden = showingCache();
  if (showingCache()) {
    const ttl = ttlWords(cacheStatus()?.ttl);
    p.textContent = ttl === 'forever' ? 'Cached images are read-only here and kept until you remove the cache’s storage.' : `Cached images are read-only here: each one expires ${ttl} after it was fetched.`;
    p.classList.remove('images-error');
    return;
  }
  if (!lastGc || !lastGc.at) {
    p.textContent = 'Deleting an image frees its space after Free up space.';
    p.classList.remove('images-error');
    return;
  }
  p.textContent = `Free up space, last run ${shortDate(lastGc.at) || lastGc.at}: ${lastGc.ok ? '' : 'failed: '}${sentence(lastGc.message || (lastGc.ok ? 'done' : 'no details'))}`;
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
  bindImagePanel();
  $('images-source').addEventListener('click', (e) => {
    const b = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[data-source]'));
    if (b) chooseSource(b.dataset.source === 'cache' ? 'cache' : 'pushed');
  });
  $('btn-images').addEventListener('click', () => loadImages());
  $('btn-bulk-delete').addEventListener('click', bulkDelete);
  $('images').addEventListener('change', (e) => {
    const t = /** @type {HTMLInputElement} */ (e.target);
    if (t.type !== 'checkbox') return;
    const data = state.images.kind === 'data' ? state.images.data : null;
    const repos = reposOf(/** @type {Repositories} */ (data));
    /** @param {RepoInfo} r */
    const each = (r) => (r.tags || []).map((x) => selKey(r.name, x.digest));
    let keys = /** @type {string[]} */ ([]);
    if (t.dataset.select) keys = [t.dataset.select];
    else if (t.dataset.selectRepo) keys = each(repos.find((r) => r.name === t.dataset.selectRepo) || { name: '' });
    else if (t.dataset.selectAll) keys = filterRepos(repos, view.filter).flatMap(each);
    for (const k of keys) {
      if (t.checked) view.selected.add(k);
      else view.selected.delete(k);
    }
    const focus = t.dataset.select ? `[data-select="${CSS.escape(t.dataset.select)}"]` : t.dataset.selectRepo ? `[data-select-repo="${CSS.escape(t.dataset.selectRepo)}"]` : '[data-select-all]';
    renderImages();
    /** @type {HTMLElement | null} */ ($('images').querySelector(focus))?.focus();
  });
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
    // a tag's row opens its side panel: its name (a button: Enter too), or a
    // click anywhere on it but its own controls and a text selection
    const row = /** @type {HTMLElement | null} */ (t.closest('tr.tag-row'));
    if (row && row.dataset.repo && row.dataset.tag !== undefined) {
      const named = t.closest('[data-open]');
      const control = t.closest('button, input, a, label, select, textarea');
      const selecting = !named && String(window.getSelection() || '').length > 0;
      if (named || (!control && !selecting)) {
        openPanel(row.dataset.repo, row.dataset.tag);
        return;
      }
    }
    const sortBtn = /** @type {HTMLElement | null} */ (t.closest('[data-sort]'));
    if (sortBtn) {
      const key = /** @type {typeof view.sort} */ (sortBtn.dataset.sort);
      if (view.sort === key) view.order = view.order === 'asc' ? 'desc' : 'asc';
      else {
        view.sort = key;
        view.order = key === 'name' ? 'asc' : 'desc'; // newest and biggest first
      }
      renderImages();
      /** @type {HTMLElement | null} */ ($('images').querySelector(`[data-sort="${key}"]`))?.focus();
      return;
    }
    const toggle = /** @type {HTMLElement | null} */ (t.closest('[data-toggle]'));
    if (toggle) {
      const name = toggle.dataset.toggle || '';
      const open = toggle.getAttribute('aria-expanded') === 'true';
      for (const set of [view.opened, view.closed]) set.delete(name);
      (open ? view.closed : view.opened).add(name);
      renderImages();
      /** @type {HTMLElement | null} */ ($('images').querySelector(`[data-toggle="${CSS.escape(name)}"]`))?.focus();
      return;
    }
    const digest = /** @type {HTMLElement | null} */ (t.closest('[data-copy-digest]'));
    if (digest) {
      try {
        await copyText(digest.dataset.copyDigest || '');
        toast('success', 'Digest copied.');
      } catch {
        toast('error', 'Could not copy: select the digest and copy it by hand.');
      }
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
      if (g) toast(g.ok ? 'success' : 'error', `Free up space ${g.ok ? 'done' : 'failed'}: ${g.message || ''}`.trim());
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
