// Rendering: turns state (the backend's answers and the app's own flags)
// into DOM. No network, no timers, no form logic. Text from the backend is
// always set with textContent, never parsed as HTML.

const $ = (id) => document.getElementById(id);

/** el('span', {class: 'x', title: 't'}, 'text', child...) */
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

export const MODE_LABELS = {
  local: 'Local volume',
  s3: 'S3-compatible service',
  storj: 'Storj, self-hosted gateway',
  'storj-hosted': 'Storj hosted gateway',
  'storj-native': 'Storj native driver',
};

const STATE_WORDS = {
  'not-configured': 'Not configured',
  stopped: 'Stopped',
  pulling: 'Pulling image',
  starting: 'Starting',
  running: 'Running',
  unhealthy: 'Unhealthy',
  failed: 'Failed',
  unreachable: 'No connection',
  stopping: 'Stopping',
  removing: 'Removing',
  cleaning: 'Cleaning up',
  unknown: 'Loading…',
};

export function stateWords(state) {
  return STATE_WORDS[state] || String(state || 'Unknown');
}

function setTextIfChanged(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Backend messages start in lowercase; on screen they read as sentences. */
export function sentence(text) {
  const t = String(text ?? '').trim();
  if (!t) return '';
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1000 * 1000) return `${(n / 1e6).toFixed(n < 1e5 ? 2 : 1)} MB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/* Advice for failures the backend did not give a hint for. */
function inferHint(error) {
  const text = `${error.code || ''} ${error.message || ''}`.toLowerCase();
  if (/address already in use|port is already allocated|bind/.test(text))
    return 'Another program uses this port. Choose another port in the settings, save, and press Start.';
  if (/docker/.test(text) && /(connect|reach|socket|daemon)/.test(text))
    return 'Make sure Docker is running, then press Start again.';
  if (/pull|manifest unknown|not found.*image|no such image/.test(text))
    return 'The registry image could not be downloaded. Check your internet connection and press Start again.';
  if (/bucket/.test(text) && /(exist|found|nosuchbucket)/.test(text))
    return 'Create the bucket first (it must exist before the registry starts), or fix its name in the settings.';
  if (/(access denied|forbidden|signature|credential|invalidaccesskeyid|unauthori)/.test(text))
    return 'The storage refused the credentials. Check the access grant or keys in the settings.';
  if (/grant|satellite/.test(text)) return 'Check the access grant in the settings.';
  return '';
}

const SUMMARY = {
  'not-configured': () => ['Not set up yet. Choose where to store images, save the settings, and press ', el('strong', {}, 'Start'), '.'],
  stopped: (s) =>
    (s.containers || []).length
      ? ['Stopped. Your images are kept; press ', el('strong', {}, 'Start'), ' to serve them again.']
      : ['Ready. Press ', el('strong', {}, 'Start'), ' to run the registry.'],
  pulling: () => ['Downloading the images the registry needs…'],
  starting: () => ['Starting the containers and waiting for the registry to answer…'],
  running: (s) =>
    s.pendingRestart === true
      ? ['Running with the previous settings. After a restart it serves at ', el('strong', { class: 'mono' }, s.endpoint || 'localhost'), '.']
      : ['Accepting pushes and pulls at ', el('strong', { class: 'mono' }, s.endpoint || 'localhost'), '.'],
  unhealthy: () => ['The registry’s container is up but does not answer. Check the logs below; a restart often helps.'],
  failed: (s) => [s.state ? 'The registry could not be started.' : 'The registry’s state is unknown.'],
  unreachable: () => ['The extension’s backend does not answer, so the registry’s state is unknown.'],
  stopping: () => ['Stopping the registry…'],
  removing: () => ['Removing the registry’s containers…'],
  cleaning: () => ['Cleaning up: the registry pauses while unused layers are deleted, then starts again.'],
  unknown: () => ['Asking the backend for the registry’s state…'],
};

/**
 * status: the last GET /api/status answer (or null); view: {unreachable}.
 */
export function renderStatus(status, { unreachable, statusError } = {}) {
  let state = unreachable ? 'unreachable' : status?.state || 'unknown';
  if (!unreachable && !status && statusError) {
    // The backend answers, but not with a status: show its error instead.
    state = 'failed';
    status = { error: { code: statusError.code, message: `The backend could not report the registry’s state: ${statusError.message}` } };
  }
  // A stop or remove in progress reads better than the state it leaves.
  const JOB_STATES = { stop: 'stopping', remove: 'removing', gc: 'cleaning' };
  const shown = (!unreachable && JOB_STATES[status?.job]) || state;
  const badge = $('state-badge');
  badge.dataset.state = shown;
  // Live regions: touch them only when the words change, so that screen
  // readers announce changes and not every poll.
  setTextIfChanged($('state-text'), stateWords(shown));
  const summary = (SUMMARY[shown] || (() => [`State: ${shown}`]))(status || {});
  const summaryBox = $('state-summary');
  const key = summary.map((n) => (typeof n === 'string' ? n : n.textContent)).join('');
  if (summaryBox.dataset.key !== key) {
    summaryBox.dataset.key = key;
    summaryBox.replaceChildren(...summary);
  }

  // progress while pulling
  const prog = status?.progress;
  const showProgress = !unreachable && state === 'pulling' && prog && typeof prog === 'object';
  $('progress').hidden = !showProgress;
  if (showProgress) {
    const cur = Number(prog.current) || 0;
    const total = Number(prog.total) || 0;
    const fill = $('progress-fill');
    const bar = $('progress-bar');
    $('progress-image').textContent = prog.image || '';
    if (total > 0) {
      const pct = Math.max(0, Math.min(100, Math.round((cur / total) * 100)));
      fill.classList.remove('indeterminate');
      fill.style.width = `${pct}%`;
      bar.setAttribute('aria-valuenow', String(pct));
      bar.setAttribute('aria-valuetext', `${formatBytes(cur)} of ${formatBytes(total)}`);
      $('progress-numbers').textContent = `${formatBytes(cur)} of ${formatBytes(total)} · ${pct}%`;
    } else {
      fill.classList.add('indeterminate');
      fill.style.width = '';
      bar.removeAttribute('aria-valuenow');
      bar.setAttribute('aria-valuetext', cur > 0 ? `${formatBytes(cur)} downloaded` : 'Waiting');
      $('progress-numbers').textContent = cur > 0 ? `${formatBytes(cur)} downloaded` : 'Waiting…';
    }
  }

  // restart to apply
  const active = ['running', 'unhealthy', 'starting', 'pulling'].includes(state);
  $('pending-restart').hidden = !(status?.pendingRestart === true && active && !unreachable);

  // last failure
  const err = status?.error;
  const showErr = !unreachable && err && typeof err === 'object' && (err.message || err.code) && state !== 'running';
  $('status-error').hidden = !showErr;
  if (showErr) {
    setTextIfChanged($('status-error-message'), sentence(err.message || err.code));
    const hint = sentence(err.hint || inferHint(err));
    setTextIfChanged($('status-error-hint'), hint);
    $('status-error-hint').hidden = !hint;
    setTextIfChanged($('status-error-code'), err.code ? `Error code: ${err.code}` : '');
    $('status-error-code').hidden = !err.code;
  }

  // facts
  $('fact-mode').textContent = status?.mode ? MODE_LABELS[status.mode] || status.mode : '—';
  $('fact-endpoint').textContent = status?.endpoint || '—';
  const d = status?.docker;
  const dockerCell = $('fact-docker');
  if (!d || unreachable) dockerCell.replaceChildren('—');
  else if (d.reachable === false) dockerCell.replaceChildren(el('span', { class: 'chip chip-bad' }, 'Not reachable'));
  else {
    const parts = [];
    if (d.version) parts.push(d.version);
    if (d.apiVersion) parts.push(`API ${d.apiVersion}`);
    dockerCell.replaceChildren(parts.length ? parts.join(' · ') : 'Reachable');
  }

  // containers
  const list = Array.isArray(status?.containers) && !unreachable ? status.containers : [];
  $('containers').hidden = list.length === 0;
  $('containers-body').replaceChildren(
    ...list.map((c) => {
      const health = c.health && c.health !== 'none' && c.health !== c.state ? c.health : '';
      const stateText = [c.state || 'unknown', health].filter(Boolean).join(', ');
      const role = c.role ? c.role.charAt(0).toUpperCase() + c.role.slice(1) : 'Container';
      return el(
        'li',
        { class: 'container-item' },
        el(
          'div',
          { class: 'container-main' },
          el('div', {}, el('strong', {}, role), ' ', el('span', { class: 'mono muted', title: c.id ? `ID ${c.id}` : null }, c.name || String(c.id || '').slice(0, 12))),
          el('div', { class: 'mono muted small' }, c.image || ''),
        ),
        el(
          'div',
          { class: 'container-state' },
          el('span', { class: 'cstate', dataset: { s: c.state || '', h: c.health || '' } }, stateText),
          c.status ? el('div', { class: 'muted small' }, c.status) : null,
        ),
      );
    }),
  );
}

const STARTABLE = ['not-configured', 'stopped', 'failed', 'unhealthy'];
const STOPPABLE = ['pulling', 'starting', 'running', 'unhealthy'];
const RESTARTABLE = ['running', 'unhealthy', 'failed'];

/**
 * Enables the action buttons for the state. busy: the action in flight
 * ('start', 'stop', 'restart', 'remove', 'save') or null. dirty: unsaved
 * settings, so Start/Restart save first.
 */
export function renderActions({ state, busy, unreachable, dirty, hasContainers, pendingRestart }) {
  const known = !unreachable && state && state !== 'unknown';
  const set = (id, enabled, action, label) => {
    const b = $(id);
    b.disabled = !known || Boolean(busy) || !enabled;
    b.classList.toggle('busy', busy === action);
    b.setAttribute('aria-busy', busy === action ? 'true' : 'false');
    if (label) b.querySelector('.btn-label').textContent = label;
  };
  // With unsaved settings the enabled one of Start/Restart saves first, and says so.
  const canStart = STARTABLE.includes(state);
  const canRestart = RESTARTABLE.includes(state);
  set('btn-start', canStart, 'start', dirty && canStart && known ? 'Save and start' : 'Start');
  set('btn-stop', STOPPABLE.includes(state) || (state === 'failed' && hasContainers), 'stop');
  set('btn-restart', canRestart, 'restart', dirty && canRestart && known ? 'Save and restart' : 'Restart');
  set('btn-remove', state !== 'not-configured' || hasContainers, 'remove');
  // Saved settings wait for a restart: make Restart the main action.
  const restartFirst = Boolean(pendingRestart) && canRestart;
  $('btn-restart').classList.toggle('btn-primary', restartFirst);
  $('btn-restart').classList.toggle('btn-outlined', !restartFirst);
  const save = $('btn-save');
  save.disabled = Boolean(busy);
  save.classList.toggle('busy', busy === 'save');
  save.setAttribute('aria-busy', busy === 'save' ? 'true' : 'false');
}

export function renderBanner(show, detail) {
  $('banner').hidden = !show;
  if (show) {
    $('banner-detail').textContent =
      detail || 'The extension’s service is not answering. It may be restarting; if this persists, restart Docker Desktop or reinstall the extension.';
    $('banner-retry-note').textContent = 'Retrying every 15 seconds.';
  }
}

export function renderRetryBusy(busy) {
  const b = $('banner-retry');
  b.disabled = busy;
  b.textContent = busy ? 'Retrying…' : 'Retry';
}

/* 'alpine:3.20' -> 'alpine:3.20'; 'docker.io/library/alpine' -> 'library/alpine';
 * 'ghcr.io/me/app:1' -> 'me/app:1'; the registry host is dropped. */
export function repoNameFor(image) {
  const s = image.trim();
  const slash = s.indexOf('/');
  if (slash > 0) {
    const first = s.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') return s.slice(slash + 1);
  }
  return s;
}

export function renderHowto({ endpoint, image, bind, running }) {
  const img = (image || '').trim();
  const target = img ? repoNameFor(img) : 'NAME';
  const source = img || 'IMAGE';
  $('cmd-tag').textContent = `docker tag ${source} ${endpoint}/${target}`;
  $('cmd-push').textContent = `docker push ${endpoint}/${target}`;
  $('cmd-pull').textContent = `docker pull ${endpoint}/${target}`;
  let note = running ? '' : 'Start the registry first: these commands work while it runs. ';
  if (bind && !/^127\./.test(bind) && bind !== '::1') {
    note += `The registry listens on ${bind}, so other machines can reach it too, over plain HTTP and without a password: their Docker needs this host’s address in its “insecure-registries” setting.`;
  } else if (/^(localhost|127\.)/.test(endpoint)) {
    note += 'Docker trusts registries on localhost without TLS, so no daemon settings are needed.';
  }
  $('howto-note').textContent = note;
}

function levelOf(text) {
  const m = /level=(\w+)/.exec(text) || /"level":"(\w+)"/.exec(text);
  const lvl = m ? m[1].toLowerCase() : '';
  if (lvl === 'error' || lvl === 'fatal' || lvl === 'panic') return 'error';
  if (lvl === 'warning' || lvl === 'warn') return 'warn';
  return '';
}

/** lines: [{container, stream, text}]; filter: '' or a container role. */
export function renderLogs(lines, filter, { emptyText } = {}) {
  const box = $('logs');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  const shown = filter ? lines.filter((l) => l.container === filter) : lines;
  if (shown.length === 0) {
    const text = lines.length && filter ? `No lines from the ${filter} container.` : emptyText || 'No log lines yet.';
    box.replaceChildren(el('p', { class: 'logs-empty' }, text));
    return;
  }
  const frag = document.createDocumentFragment();
  for (const l of shown) {
    const level = levelOf(l.text || '');
    frag.append(
      el(
        'div',
        { class: `log-line${l.stream === 'stderr' ? ' stderr' : ''}${level ? ` level-${level}` : ''}` },
        el('span', { class: 'log-src', dataset: { c: l.container || '' } }, l.container || ''),
        el('span', { class: 'log-text' }, l.text ?? ''),
      ),
    );
  }
  box.replaceChildren(frag);
  if (atBottom || box.dataset.scrolled !== 'yes') {
    box.scrollTop = box.scrollHeight;
    box.dataset.scrolled = 'yes';
  }
}

export function renderLogsMeta(text) {
  $('logs-meta').textContent = text;
}

/* ---------- settings form pieces ---------- */

export function fieldInputId(field) {
  return {
    bucket: 'f-bucket',
    accessGrant: 'f-grant',
    's3.endpoint': 'f-endpoint',
    's3.region': 'f-region',
    's3.accessKey': 'f-accesskey',
    's3.secretKey': 'f-secretkey',
    port: 'f-port',
    bind: 'f-bind',
    authService: 'f-auth',
  }[field];
}

/** Shows (or clears, with '') a message beside a field; false when the field is not on screen. */
export function setFieldError(field, message) {
  const id = fieldInputId(field);
  const input = id && $(id);
  const out = $(`err-${field}`);
  if (!input || !out) return false;
  out.textContent = sentence(message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  return input.offsetParent !== null;
}

export function setFormError(message) {
  const p = $('form-error');
  p.textContent = message || '';
  p.hidden = !message;
}

export function renderWarnings(listId, warnings) {
  const ul = $(listId);
  const list = Array.isArray(warnings) ? warnings.filter((w) => w && (w.message || w.code)) : [];
  ul.hidden = list.length === 0;
  ul.replaceChildren(...list.map((w) => el('li', { dataset: { code: w.code || '' } }, el('span', {}, w.message || w.code))));
}

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

function fmtDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} (${relTime(d)})`;
}

function fmtTTL(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s)) return String(seconds);
  if (s % 86400 === 0) return `${s / 86400} days`;
  if (s % 3600 === 0) return `${s / 3600} hours`;
  if (s % 60 === 0) return `${s / 60} minutes`;
  return `${s} seconds`;
}

/**
 * info: null (hide), {loading:true}, {saved: {satellite}} for a saved grant,
 * or a POST /api/grant/inspect answer.
 */
export function renderGrantInfo(info) {
  const box = $('grant-info');
  if (!info) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  if (info.loading) {
    box.replaceChildren(el('span', { class: 'loading' }, 'Reading the access grant…'));
    return;
  }
  if (info.saved) {
    const sat = info.saved.satellite;
    box.replaceChildren(
      el('span', { class: 'muted' }, 'A saved access grant is in use', sat ? ` (satellite ${sat})` : '', '. Paste a new one to replace it.'),
    );
    return;
  }
  const rows = [];
  const sat = info.satellite || {};
  const host = sat.host || sat.address || '';
  rows.push(['Satellite', [el('span', { class: 'mono' }, host || 'unknown'), sat.region ? ` · ${sat.region}` : '']]);
  const p = info.permissions || {};
  rows.push([
    'Permissions',
    el(
      'span',
      { class: 'perm' },
      ['read', 'write', 'list', 'delete'].map((k) =>
        el('span', { class: `chip ${p[k] ? 'chip-ok' : 'chip-bad'}`, title: p[k] ? `${k} allowed` : `${k} not allowed` }, `${p[k] ? '✓' : '✗'} ${k}`),
      ),
    ),
  ]);
  rows.push(['Buckets', Array.isArray(info.buckets) ? (info.buckets.length ? info.buckets.join(', ') : 'none') : 'all buckets']);
  rows.push(['Expires', info.notAfter ? fmtDate(info.notAfter) : 'never']);
  if (info.notBefore) rows.push(['Valid from', fmtDate(info.notBefore)]);
  if (info.maxObjectTTL) rows.push(['Objects expire', `after ${fmtTTL(info.maxObjectTTL)}`]);
  if (info.pathEncryption) {
    const enc = { none: 'not encrypted', 'aes-gcm': 'AES-GCM', secretbox: 'secretbox' }[info.pathEncryption] || info.pathEncryption;
    rows.push(['Path encryption', enc]);
  }
  box.replaceChildren(el('dl', {}, rows.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
}

export function renderVersion(health) {
  $('footer-version').textContent = health?.version ? `storj-registryd ${health.version}` : '';
}

/* ---------- stored images ---------- */

function shortDigest(d) {
  const m = /^sha256:([0-9a-f]{12})/.exec(d || '');
  return m ? `${m[1]}` : String(d || '').slice(0, 19);
}

function contentsOf(t) {
  if (t.kind === 'index') {
    const p = Array.isArray(t.platforms) && t.platforms.length ? t.platforms.join(', ') : 'several platforms';
    return `Multi-platform: ${p}`;
  }
  const n = Number(t.layers);
  return Number.isFinite(n) ? `${n} layer${n === 1 ? '' : 's'}` : '';
}

const COPY_ICON =
  'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z';
const DELETE_ICON = 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z';

function icon(d) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

/**
 * model: {kind:'not-running'} | {kind:'error', message} | {kind:'data', data}
 * with data a GET /api/repositories answer; endpoint for the pull commands.
 */
export function renderImages(model, { endpoint }) {
  const box = $('images');
  const total = $('images-total');
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
  const body = [];
  for (const r of repos) {
    const tags = Array.isArray(r.tags) ? r.tags : [];
    body.push(
      el(
        'tr',
        { class: 'repo-row' },
        el(
          'th',
          { colspan: 5, scope: 'colgroup' },
          el('span', { class: 'mono' }, r.name),
          el('span', { class: 'muted' }, ` · ${tags.length} tag${tags.length === 1 ? '' : 's'} · ${formatBytes(Number(r.size) || 0)}`),
        ),
      ),
    );
    if (!tags.length) {
      body.push(el('tr', {}, el('td', { colspan: 5, class: 'muted small' }, 'No tags left: its images were deleted.')));
      continue;
    }
    for (const t of tags) {
      const ref = `${r.name}:${t.tag}`;
      const sharing = tags.filter((o) => o.digest === t.digest).map((o) => o.tag);
      body.push(
        el(
          'tr',
          {},
          el('td', { class: 'mono' }, ref),
          el('td', { class: 'mono muted', title: t.digest || '' }, shortDigest(t.digest)),
          el('td', { class: 'num' }, t.kind === 'index' ? '—' : formatBytes(Number(t.size) || 0)),
          el('td', { class: 'muted' }, contentsOf(t)),
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
        el('th', { scope: 'col' }, 'Digest'),
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

/** lastGc: status.lastGc or undefined. */
export function renderImagesMeta(lastGc) {
  const p = $('images-meta');
  if (!lastGc || !lastGc.at) {
    p.textContent = 'Deleting an image frees its space only after a clean-up.';
    p.classList.remove('images-error');
    return;
  }
  const when = new Date(lastGc.at);
  const at = Number.isNaN(when.getTime()) ? lastGc.at : when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  p.textContent = `Last clean-up ${at}: ${lastGc.ok ? '' : 'failed: '}${sentence(lastGc.message || (lastGc.ok ? 'done' : 'no details'))}`;
  p.classList.toggle('images-error', !lastGc.ok);
}
