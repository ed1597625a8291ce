// Browser tests of the Storj Registry tab: Debian's Chromium (driven by
// playwright-core) loads ui/ from the REAL backend in standalone mode, and the
// backend drives a REAL Docker engine (tests/env/docker-engine.sh). A real
// `docker push` goes to the address the tab shows.
//
// Docker Desktop itself cannot run here: the last case stands in for it with
// a test-side window.ddClient that behaves like Desktop's (fetch to the same
// backend, {data,status,headers}-wrapped answers, ServiceError rejections).
//
// Needs: DOCKER_HOST=unix://... (the test engine), the image
// storj-registry-test/registry:2.8.2 (tests/env/images.sh), backend/storj-registryd.
// tests/browser/run.sh sets all of that up.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, rmSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BIN = process.env.SR_BIN || path.join(ROOT, 'backend/storj-registryd');
const UI = path.join(ROOT, 'ui');
const SHOTS = path.join(HERE, 'screenshots');
const DOCKER = process.env.DOCKER || '/usr/bin/docker';
const REGISTRY_IMAGE = process.env.SR_TEST_REGISTRY_IMAGE || 'storj-registry-test/registry:2.8.2';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DOCKER_HOST = process.env.DOCKER_HOST || '';

const WORK = mkdtempSync(path.join(process.env.SRT_BROWSER_WORK || tmpdir(), 'srt-browser-'));
const STATE_DIR = path.join(WORK, 'state');
mkdirSync(STATE_DIR, { recursive: true });
mkdirSync(SHOTS, { recursive: true });

let browser;
let backend; // {proc, port, url, log}
let registryPort;
let pushedImage = '';

/* ---------- helpers ---------- */

/** A loopback TCP port that nothing listens on right now. */
function freePort(preferLow, preferHigh) {
  const tryPort = (p) =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(0));
      srv.listen(p, '127.0.0.1', () => {
        const got = srv.address().port;
        srv.close(() => resolve(got));
      });
    });
  return (async () => {
    if (preferLow) {
      for (let i = 0; i < 40; i++) {
        const p = preferLow + Math.floor(Math.random() * (preferHigh - preferLow));
        if (await tryPort(p)) return p;
      }
    }
    return tryPort(0);
  })();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = 20000, stepMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

async function apiJSON(method, p, body) {
  const res = await fetch(`${backend.url}${p}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Starts the backend in standalone mode on `port` (a new one when omitted). */
async function startBackend(port, { stateDir = STATE_DIR, image = REGISTRY_IMAGE, logName = 'backend.log' } = {}) {
  port = port || (await freePort());
  const sock = DOCKER_HOST.replace(/^unix:\/\//, '');
  const log = path.join(WORK, logName);
  const fd = openSync(log, 'a');
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE; // the 2.8 registry's S3 driver panics with it
  const proc = spawn(
    BIN,
    [
      '--socket', '',
      '--listen', `127.0.0.1:${port}`,
      '--ui', UI,
      '--state-dir', stateDir,
      '--docker-socket', sock,
      '--network', 'host',
      '--registry-image', image,
      '--monitor-interval', '300',
    ],
    { env, stdio: ['ignore', fd, fd] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the backend to answer /api/health',
    async () => {
      if (proc.exitCode !== null) throw new Error(`backend exited with ${proc.exitCode}: ${tail(log)}`);
      const r = await fetch(`${url}/api/health`);
      return r.ok;
    },
    20000,
  );
  return { proc, port, url, log };
}

async function stopBackend(b, signal = 'SIGTERM') {
  if (!b || b.proc.exitCode !== null) return;
  const gone = new Promise((r) => b.proc.once('exit', r));
  b.proc.kill(signal);
  await Promise.race([gone, sleep(10000)]);
  if (b.proc.exitCode === null && b.proc.signalCode === null) {
    b.proc.kill('SIGKILL');
    await gone;
  }
}

function tail(file, n = 30) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

async function newPage({ width = 1200, height = 800, scheme = 'light', init } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|Failed to fetch/.test(m.text())) page.errors.push(m.text());
  });
  if (init) await context.addInitScript(init.fn, init.arg);
  return page;
}

/** Screenshots in both schemes: screenshots/NAME-light.png and NAME-dark.png. */
async function shots(page, name, { fullPage = true, schemes = ['light', 'dark'] } = {}) {
  // standalone toasts would cover the page
  await page.evaluate(() => document.querySelectorAll('.sr-toast').forEach((t) => t.remove()));
  for (const scheme of schemes) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForFunction((s) => document.documentElement.dataset.scheme === s, scheme);
    await sleep(150); // transitions
    await page.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`), fullPage });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const badgeState = (page) => page.getAttribute('#state-badge', 'data-state');

async function waitBadge(page, states, timeoutMs = 30000) {
  const want = [].concat(states);
  await page.waitForFunction((w) => w.includes(document.getElementById('state-badge').dataset.state), want, { timeout: timeoutMs });
  return badgeState(page);
}

async function docker(...args) {
  const env = { ...process.env, DOCKER_HOST };
  return run(DOCKER, args, { env, maxBuffer: 16 << 20 });
}

/* ---------- suite ---------- */

before(async () => {
  assert.ok(DOCKER_HOST.startsWith('unix://'), 'DOCKER_HOST must point at the test engine (run tests/browser/run.sh)');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  backend = await startBackend();
  registryPort = await freePort(15000, 15999);
});

after(async () => {
  try {
    if (backend && backend.proc.exitCode === null) {
      // Leave nothing behind on the engine: containers and the local volume.
      await apiJSON('DELETE', '/api/registry?purge=true').catch(() => {});
      await waitFor('the containers to be removed', async () => {
        const s = (await apiJSON('GET', '/api/status')).body;
        return !s.job && (s.containers || []).length === 0;
      }, 30000).catch(() => {});
    }
  } finally {
    await stopBackend(backend);
    await browser?.close();
    if (pushedImage) await docker('rmi', '-f', pushedImage, 'srt-browser/push:1').catch(() => {});
    if (process.env.SRT_KEEP_WORK !== '1') rmSync(WORK, { recursive: true, force: true });
  }
});

test('not configured: the tab explains what to do', { timeout: 60000 }, async () => {
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  assert.equal(await waitBadge(page, 'not-configured'), 'not-configured');
  assert.match(await page.textContent('#state-text'), /Not configured/);
  assert.match(await page.textContent('h1'), /Storj Registry/);
  assert.equal(await page.getAttribute('html', 'class'), 'dockerDesktopTheme');
  // the local mode is the default; its fields only
  assert.equal(await page.isChecked('input[name=mode][value=local]'), true);
  assert.equal(await page.isVisible('#f-bucket'), false);
  assert.equal(await page.isVisible('#f-port'), true);
  // Stop has nothing to stop
  assert.equal(await page.isDisabled('#btn-stop'), true);
  assert.match(await page.textContent('#footer-version'), /storj-registryd \d/);
  await shots(page, 'not-configured');
  await page.setViewportSize({ width: 800, height: 800 });
  await shots(page, 'not-configured-800', { schemes: ['light'] });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('local mode: save, start, push with the shown command, stop (real engine)', { timeout: 240000 }, async () => {
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  await waitBadge(page, 'not-configured');
  await page.check('input[name=mode][value=local]');
  await page.fill('#f-port', String(registryPort));
  await page.fill('#f-bind', '127.0.0.1');
  assert.equal(await page.isVisible('#dirty-flag'), true, 'unsaved changes are flagged');

  const put = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#btn-save');
  assert.equal((await put).status(), 200);
  await waitBadge(page, 'stopped');
  await page.waitForSelector('#dirty-flag', { state: 'hidden' });
  const cfg = (await apiJSON('GET', '/api/config')).body;
  assert.equal(cfg.mode, 'local');
  assert.equal(cfg.port, registryPort);
  // the commands follow the saved port
  await page.waitForFunction((p) => document.getElementById('cmd-push').textContent.includes(`:${p}/`), registryPort);
  await shots(page, 'configured-stopped');

  // Start: the badge passes through pulling/starting (caught when we can) to running.
  const seen = new Set();
  const watcher = setInterval(async () => {
    try {
      seen.add(await badgeState(page));
    } catch {
      /* page closing */
    }
  }, 100);
  await page.click('#btn-start');
  try {
    await waitBadge(page, ['pulling', 'starting'], 5000);
    await shots(page, 'starting', { schemes: ['light'] });
  } catch {
    /* it may go straight to running: the image is local */
  }
  await waitBadge(page, 'running', 90000);
  clearInterval(watcher);
  assert.match(await page.textContent('#state-summary'), new RegExp(`localhost:${registryPort}`));
  assert.equal(await page.isDisabled('#btn-start'), true, 'no Start while running');
  assert.equal(await page.isEnabled('#btn-stop'), true);
  await page.waitForSelector('#containers-body li');
  assert.match(await page.textContent('#containers-body'), /registry/i);

  // A real push to the address from "How to use it".
  await page.fill('#howto-image', 'srt-browser/push:1');
  const tagCmd = (await page.textContent('#cmd-tag')).trim();
  const pushCmd = (await page.textContent('#cmd-push')).trim();
  const m = /^docker push (\S+)$/.exec(pushCmd);
  assert.ok(m, `push command looks like "docker push ADDR/NAME": ${pushCmd}`);
  const target = m[1];
  assert.equal(target, `localhost:${registryPort}/srt-browser/push:1`);
  assert.equal(tagCmd, `docker tag srt-browser/push:1 ${target}`);
  await run(path.join(ROOT, 'tests/env/random-image.sh'), ['srt-browser/push:1', '2', '64'], { env: { ...process.env, DOCKER_HOST } });
  await docker('tag', 'srt-browser/push:1', target);
  pushedImage = target;
  const pushed = await docker('push', target);
  assert.match(pushed.stdout, /digest: sha256:/);
  // and the pull command brings it back
  const pullCmd = (await page.textContent('#cmd-pull')).trim();
  assert.equal(pullCmd, `docker pull ${target}`);
  await docker('rmi', target);
  const pulled = await docker('pull', target);
  assert.match(pulled.stdout, /Downloaded newer image|Image is up to date/);
  // the registry logged the push; the logs panel shows it
  await waitFor('the push in the logs panel', async () => {
    await page.click('#btn-logs');
    await sleep(500);
    return /srt-browser\/push/.test(await page.textContent('#logs'));
  }, 20000, 500);

  // what the registry holds
  await page.click('#btn-images');
  await page.waitForFunction(() => /srt-browser\/push:1/.test(document.getElementById('images').textContent), null, { timeout: 20000 });
  assert.match(await page.textContent('#images-total'), /1 tag in 1 repository/);

  await page.fill('#howto-image', '');
  await shots(page, 'running');
  await page.setViewportSize({ width: 800, height: 800 });
  await shots(page, 'running-800', { schemes: ['light', 'dark'] });
  await page.setViewportSize({ width: 1200, height: 800 });

  // Delete the image from the tab, then clean up (garbage collection).
  await page.click('[data-delete="srt-browser/push"]');
  await page.waitForSelector('#confirm-dialog[open]');
  assert.match(await page.textContent('#confirm-title'), /Delete srt-browser\/push:1/);
  await shots(page, 'delete-dialog', { fullPage: false, schemes: ['light'] });
  const delReq = page.waitForResponse((r) => r.request().method() === 'DELETE' && /\/api\/repositories\//.test(r.url()));
  await page.click('#confirm-ok');
  assert.equal((await delReq).status(), 200);
  await page.waitForFunction(() => !/srt-browser\/push:1/.test(document.getElementById('images').textContent), null, { timeout: 20000 });
  const gone = await docker('pull', target).then(() => 'pulled', (e) => e.stderr || String(e));
  assert.notEqual(gone, 'pulled', 'the deleted image cannot be pulled');
  await page.click('#btn-gc');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /Last clean-up/.test(document.getElementById('images-meta').textContent), null, { timeout: 90000 });
  assert.doesNotMatch(await page.textContent('#images-meta'), /failed/);
  await waitBadge(page, 'running', 60000);

  // New settings for a running registry wait for a restart, and say so.
  const newPort = await freePort(15000, 15999);
  await page.fill('#f-port', String(newPort));
  await page.click('#btn-save');
  await page.waitForSelector('#pending-restart', { state: 'visible', timeout: 15000 });
  assert.match(await page.getAttribute('#btn-restart', 'class'), /btn-primary/, 'Restart becomes the main action');
  await shots(page, 'pending-restart', { schemes: ['light'] });
  await page.click('#btn-restart');
  await page.waitForFunction((p) => document.getElementById('cmd-push').textContent.includes(`localhost:${p}/`), newPort, { timeout: 60000 });
  await waitBadge(page, 'running', 60000);
  await page.waitForSelector('#pending-restart', { state: 'hidden' });
  const v2 = await fetch(`http://127.0.0.1:${newPort}/v2/`);
  assert.equal(v2.status, 200, 'the registry answers on the new port');
  registryPort = newPort;

  // Stop
  await page.click('#btn-stop');
  await waitBadge(page, 'stopped', 60000);
  assert.equal(await page.isEnabled('#btn-start'), true);
  assert.equal(await page.isDisabled('#btn-stop'), true, 'no Stop when stopped');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('remove asks first, traps focus, and purges the local volume when asked', { timeout: 120000 }, async () => {
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  await waitBadge(page, ['stopped', 'running']);
  await page.click('#btn-remove');
  await page.waitForSelector('#remove-dialog[open]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'remove-cancel');
  // Tab cycles inside the dialog
  const ids = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    ids.push(await page.evaluate(() => document.activeElement.id));
  }
  for (const id of ids) assert.ok(['remove-purge', 'remove-cancel', 'remove-confirm'].includes(id), `focus stays in the dialog (${ids})`);
  await shots(page, 'remove-dialog', { fullPage: false });
  // Escape cancels without a request
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('remove-dialog').open);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-remove');

  await page.click('#btn-remove');
  await page.check('#remove-purge');
  const del = page.waitForRequest((r) => r.method() === 'DELETE');
  await page.click('#remove-confirm');
  assert.match((await del).url(), /\/api\/registry\?purge=true$/);
  await waitFor('the containers to be removed', async () => {
    const s = (await apiJSON('GET', '/api/status')).body;
    return !s.job && (s.containers || []).length === 0;
  }, 60000);
  const vols = await docker('volume', 'ls', '-q', '--filter', 'name=storj-registry-data');
  assert.equal(vols.stdout.trim(), '', 'the local volume is gone');
  await page.waitForFunction(() => document.querySelectorAll('#containers-body li').length === 0, null, { timeout: 15000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('field errors: a bad bucket as you type and from the backend', { timeout: 60000 }, async () => {
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  await waitBadge(page, ['stopped', 'not-configured']);
  await page.check('input[name=mode][value=s3]');
  assert.equal(await page.isVisible('#f-bucket'), true);
  assert.equal(await page.isVisible('#f-secretkey'), true);
  assert.equal(await page.isVisible('#f-grant'), false);

  // as you type
  await page.fill('#f-bucket', 'Bad_Bucket');
  await page.waitForFunction(() => document.getElementById('err-bucket').textContent.length > 0);
  assert.match(await page.textContent('#err-bucket'), /lowercase/i);
  assert.equal(await page.getAttribute('#f-bucket', 'aria-invalid'), 'true');
  await page.fill('#f-bucket', '127.0.0.1');
  await page.locator('#f-bucket').blur();
  assert.match(await page.textContent('#err-bucket'), /IP address/);
  await page.fill('#f-bucket', 'good-bucket');
  await page.waitForFunction(() => document.getElementById('err-bucket').textContent === '');

  // The client does not require the secret key (a saved one is kept), so the
  // backend's missing-field error must appear beside that field.
  await page.fill('#f-endpoint', 'http://127.0.0.1:7480');
  await page.fill('#f-region', 'us-east-1');
  await page.fill('#f-accesskey', 'AKIDBROWSERTEST');
  let put = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#btn-save');
  assert.equal((await put).status(), 400);
  await page.waitForFunction(() => document.getElementById('err-s3.secretKey').textContent.length > 0);
  assert.match(await page.textContent('#err-s3\\.secretKey'), /secret key/i);

  // With the client-side check out of the way, the backend's bucket rule speaks.
  await page.evaluate(() => (window.__storjRegistrySkipClientChecks = true));
  await page.fill('#f-secretkey', 'browser-test-secret');
  await page.fill('#f-bucket', 'Bad_Bucket');
  put = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#btn-save');
  const res = await put;
  assert.equal(res.status(), 400);
  const body = await res.json();
  assert.equal(body.error.field, 'bucket');
  // shown as a sentence: capitalised, with a full stop
  await page.waitForFunction((msg) => document.getElementById('err-bucket').textContent.toLowerCase().startsWith(msg.toLowerCase()), body.error.message);
  // nothing the user typed is lost
  assert.equal(await page.inputValue('#f-secretkey'), 'browser-test-secret');
  assert.equal(await page.inputValue('#f-endpoint'), 'http://127.0.0.1:7480');
  await shots(page, 'field-errors');

  // The unsaved values survive a reload (tab switch), except the secret.
  await page.reload();
  await waitBadge(page, ['stopped', 'not-configured']);
  assert.equal(await page.isChecked('input[name=mode][value=s3]'), true);
  assert.equal(await page.inputValue('#f-bucket'), 'Bad_Bucket');
  assert.equal(await page.inputValue('#f-endpoint'), 'http://127.0.0.1:7480');
  assert.equal(await page.inputValue('#f-secretkey'), '');
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes('browser-test-secret') && !stored.includes('AKIDBROWSERTEST'), 'no secrets in sessionStorage');
  await page.click('#btn-discard');
  assert.equal(await page.isChecked('input[name=mode][value=local]'), true);

  // A saved secret reads "set" and is kept when the form is saved without it.
  await page.evaluate(() => (window.__storjRegistrySkipClientChecks = false));
  await page.check('input[name=mode][value=s3]');
  await page.fill('#f-bucket', 'good-bucket');
  await page.fill('#f-endpoint', 'http://127.0.0.1:7480');
  await page.fill('#f-region', 'us-east-1');
  await page.fill('#f-accesskey', 'AKIDBROWSERTEST');
  await page.fill('#f-secretkey', 'browser-test-secret');
  put = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#btn-save');
  assert.equal((await put).status(), 200);
  await page.waitForSelector('#secret-set', { state: 'visible' });
  assert.equal(await page.inputValue('#f-secretkey'), '', 'the secret is not shown back');
  assert.equal(await page.getAttribute('#f-secretkey', 'placeholder'), 'saved — leave empty to keep');
  await page.fill('#f-region', 'eu-west-1');
  put = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#btn-save');
  const second = await put;
  assert.equal(second.status(), 200);
  assert.equal(second.request().postDataJSON().s3.secretKey, undefined, 'an empty secret is left out of the PUT');
  const cfg = (await apiJSON('GET', '/api/config')).body;
  assert.equal(cfg.s3.region, 'eu-west-1');
  assert.equal(cfg.s3.secretKey.set, true, 'the saved secret is kept');
  assert.ok(!JSON.stringify(cfg).includes('browser-test-secret'), 'the backend never returns the secret');

  // back to the local mode for the cases that follow
  await page.check('input[name=mode][value=local]');
  put = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#btn-save');
  assert.equal((await put).status(), 200);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('access grant: inspected as it is pasted, a malformed one is explained', { timeout: 60000 }, async () => {
  // A real (empty-encryption) grant from the Storj gateway docs; decoding is offline.
  const grant =
    '12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2Bty7iGDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyHZGrmRBtwkv1gXrogjtkbzUovXG';
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  await waitBadge(page, ['stopped', 'not-configured']);
  await page.check('input[name=mode][value=storj]');
  assert.equal(await page.getAttribute('#f-grant', 'type'), 'password');
  await page.click('[data-reveal=f-grant]');
  assert.equal(await page.getAttribute('#f-grant', 'type'), 'text');
  await page.click('[data-reveal=f-grant]');
  await page.fill('#f-bucket', 'registry');
  const inspect = page.waitForResponse((r) => r.url().endsWith('/api/grant/inspect'));
  await page.fill('#f-grant', grant);
  assert.equal((await inspect).status(), 200);
  await page.waitForSelector('#grant-info dl');
  assert.match(await page.textContent('#grant-info'), /eu1\.storj\.io:7777/);
  await shots(page, 'grant-inspected', { schemes: ['light'] });

  const bad = page.waitForResponse((r) => r.url().endsWith('/api/grant/inspect'));
  await page.fill('#f-grant', `${grant.slice(0, -3)}zzz`);
  const badRes = await bad;
  assert.equal(badRes.status(), 400);
  const msg = (await badRes.json()).error.message;
  await page.waitForFunction((m) => document.getElementById('err-accessGrant').textContent.toLowerCase().startsWith(m.toLowerCase()), msg);
  assert.equal(await page.isVisible('#grant-info'), false);
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(grant.slice(0, 40)), 'the grant is never stored');
  await page.click('#btn-discard');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('backend down: the banner shows, Retry recovers once it is back', { timeout: 90000 }, async () => {
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  await waitBadge(page, ['stopped', 'not-configured']);
  const port = backend.port;
  await stopBackend(backend, 'SIGKILL');
  await page.waitForSelector('#banner', { state: 'visible', timeout: 20000 });
  assert.match(await page.textContent('#banner'), /Can’t reach/);
  assert.equal(await badgeState(page), 'unreachable');
  assert.equal(await page.isDisabled('#btn-start'), true);
  await shots(page, 'unreachable');

  backend = await startBackend(port);
  await page.click('#banner-retry');
  await page.waitForSelector('#banner', { state: 'hidden', timeout: 15000 });
  assert.notEqual(await badgeState(page), 'unreachable');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('pulling shows progress; a start that fails shows the error and what to do', { timeout: 180000 }, async () => {
  // A plain registry container (not the extension's: no labels) serves a
  // large image that is not in the engine, so the backend has to pull it.
  // That image holds no program, so the start then fails for real.
  const srcPort = await freePort(17000, 17999);
  const srcId = (
    await docker('run', '-d', '--pull', 'never', '--network', 'host', '-e', `REGISTRY_HTTP_ADDR=127.0.0.1:${srcPort}`, REGISTRY_IMAGE)
  ).stdout.trim();
  const image = `localhost:${srcPort}/srt-browser/big:1`;
  const stateDir = path.join(WORK, 'state-failing');
  mkdirSync(stateDir, { recursive: true });
  let failing;
  try {
    await waitFor('the source registry', async () => (await fetch(`http://127.0.0.1:${srcPort}/v2/`)).ok, 20000);
    await run(path.join(ROOT, 'tests/env/random-image.sh'), ['srt-browser/big:1', '6', '24576'], { env: { ...process.env, DOCKER_HOST } });
    await docker('tag', 'srt-browser/big:1', image);
    await docker('push', image);
    await docker('rmi', image, 'srt-browser/big:1');

    failing = await startBackend(0, { stateDir, image, logName: 'backend-failing.log' });
    const page = await newPage();
    const progress = [];
    page.on('response', async (r) => {
      if (r.url().endsWith('/api/status')) {
        try {
          const p = (await r.json()).progress;
          if (p) progress.push(p);
        } catch {
          /* page closing */
        }
      }
    });
    await page.goto(`${failing.url}/`);
    await waitBadge(page, 'not-configured');
    await page.fill('#f-port', String(await freePort(16000, 16999)));
    await page.click('#btn-start'); // "Save and start"
    let sawPulling = false;
    try {
      await waitBadge(page, 'pulling', 15000);
      sawPulling = true;
      await page.waitForSelector('#progress', { state: 'visible' });
      assert.match(await page.textContent('#progress-image'), /srt-browser\/big/);
      // bytes, once the engine knows the sizes (the bar is indeterminate before)
      await page
        .waitForFunction(() => / MB of /.test(document.getElementById('progress-numbers').textContent), null, { timeout: 4000 })
        .catch(() => {});
      await shots(page, 'pulling', { schemes: ['light', 'dark'] });
    } catch (e) {
      if (sawPulling) throw e;
      console.log('# the pull was too quick to see; no pulling screenshot');
    }
    await waitBadge(page, 'failed', 90000);
    if (process.env.SRT_DEBUG) console.log('# progress seen:', JSON.stringify(progress));
    await page.waitForSelector('#status-error', { state: 'visible' });
    assert.equal(await page.isVisible('#progress'), false);
    const message = (await page.textContent('#status-error-message')).trim();
    assert.ok(message.length > 0, 'the failure is said in words');
    const status = await (await fetch(`${failing.url}/api/status`)).json();
    const asShown = (t) => t.toLowerCase().replace(/\.$/, '');
    assert.equal(asShown(message), asShown(status.error.message));
    if (status.error.hint) assert.equal(asShown((await page.textContent('#status-error-hint')).trim()), asShown(status.error.hint));
    assert.equal(await page.isEnabled('#btn-start'), true, 'Start can be tried again');
    await shots(page, 'failed');
    assert.deepEqual(page.errors, []);
    // leave no container behind
    await page.click('#btn-remove');
    await page.click('#remove-confirm');
    await waitFor('the failed containers to be removed', async () => {
      const s = await (await fetch(`${failing.url}/api/status`)).json();
      return !s.job && (s.containers || []).length === 0;
    }, 30000);
    await page.context().close();
  } finally {
    await stopBackend(failing);
    await docker('rm', '-f', srcId).catch(() => {});
    await docker('rmi', '-f', image).catch(() => {});
  }
});

test('polling pauses while the tab is hidden and resumes when shown', { timeout: 60000 }, async () => {
  const page = await newPage();
  let polls = 0;
  page.on('request', (r) => {
    if (r.url().endsWith('/api/status')) polls++;
  });
  await page.goto(`${backend.url}/`);
  await waitBadge(page, ['stopped', 'not-configured']);
  const setHidden = (hidden) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await setHidden(true);
  await sleep(300);
  const before = polls;
  await sleep(6500); // longer than the 5 s stable interval
  assert.equal(polls, before, 'no status requests while hidden');
  await setHidden(false);
  await waitFor('a status request after the tab is shown again', () => polls > before, 3000, 50);
  await page.context().close();
});

/* Stand-in for Docker Desktop's client (Desktop cannot run here): calls the
 * real backend with fetch, answers like Desktop >= 4.42 ({data,status,headers})
 * and rejects like Desktop ({name:'ServiceError', message: body, statusCode}).
 * Also injects a theme the way Desktop does. */
function desktopLikeClient() {
  const calls = (window.__ddCalls = []);
  const toasts = (window.__ddToasts = []);
  async function request(method, url, data) {
    calls.push(`${method} ${url}`);
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: data !== undefined ? { 'Content-Type': 'application/json' } : {},
        body: data !== undefined ? JSON.stringify(data) : undefined,
      });
    } catch (e) {
      throw { name: 'Error', message: 'socket hang up', statusCode: undefined };
    }
    const text = await res.text();
    if (!res.ok) throw { name: 'ServiceError', message: text, statusCode: res.status };
    const headers = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { data: text ? JSON.parse(text) : null, status: res.status, headers };
  }
  window.ddClient = {
    extension: {
      vm: {
        service: {
          get: (u) => request('GET', u),
          post: (u, d) => request('POST', u, d),
          put: (u, d) => request('PUT', u, d),
          delete: (u) => request('DELETE', u),
        },
      },
    },
    desktopUI: {
      toast: {
        success: (m) => toasts.push(['success', m]),
        warning: (m) => toasts.push(['warning', m]),
        error: (m) => toasts.push(['error', m]),
      },
    },
    host: { openExternal: (u) => calls.push(`open ${u}`) },
  };
  const palette = (mode) => ({
    palette: {
      mode,
      primary: { main: mode === 'dark' ? 'rgb(61, 139, 253)' : 'rgb(29, 99, 237)', contrastText: '#fff' },
      background: { default: mode === 'dark' ? 'rgb(32, 44, 51)' : 'rgb(244, 244, 246)', paper: mode === 'dark' ? 'rgb(39, 53, 62)' : '#fff' },
      text: { primary: mode === 'dark' ? '#fff' : 'rgb(23, 25, 30)', secondary: 'rgb(120, 130, 140)' },
      error: { main: 'rgb(213, 37, 54)' },
      divider: 'rgba(128, 128, 128, 0.2)',
    },
    typography: { fontFamily: 'Roboto, sans-serif' },
  });
  window.__ddMuiV6Themes = { light: palette('light'), dark: palette('dark') };
}

test('inside a Desktop-like client: wrapped answers, ServiceError field errors, injected theme (stand-in for Docker Desktop)', { timeout: 60000 }, async () => {
  const page = await newPage({ init: { fn: desktopLikeClient } });
  await page.goto(`${backend.url}/`);
  const st = await waitBadge(page, ['stopped', 'not-configured', 'running']);
  assert.ok(st);
  const calls = await page.evaluate(() => window.__ddCalls);
  assert.ok(calls.includes('GET /api/status'), `the tab used the injected client: ${calls}`);
  assert.equal(await page.evaluate(() => window.ddClient.standalone), undefined, 'standalone.js stepped aside');
  assert.equal(
    await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--dd-bg').trim()),
    'rgb(244, 244, 246)',
    'the injected palette is applied',
  );
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => getComputedStyle(document.documentElement).getPropertyValue('--dd-bg').trim() === 'rgb(32, 44, 51)');
  await page.emulateMedia({ colorScheme: 'light' });
  // the status facts come from the wrapped answer
  await page.waitForFunction(() => /API \d/.test(document.getElementById('fact-docker').textContent));

  // a bad port: the client check, then the backend's answer through ServiceError
  await page.fill('#f-port', '70000');
  await page.waitForFunction(() => document.getElementById('err-port').textContent.length > 0);
  await page.evaluate(() => (window.__storjRegistrySkipClientChecks = true));
  await page.click('#btn-save');
  await page.waitForFunction(() => /65535/.test(document.getElementById('err-port').textContent) && window.__ddToasts.length > 0);
  const toasts = await page.evaluate(() => window.__ddToasts);
  assert.equal(toasts.at(-1)[0], 'error');
  const put = (await page.evaluate(() => window.__ddCalls)).filter((c) => c.startsWith('PUT'));
  assert.deepEqual(put, ['PUT /api/config']);

  // external links go through ddClient.host.openExternal
  await page.check('input[name=mode][value=storj]');
  await page.click('text=Create an access grant');
  assert.ok((await page.evaluate(() => window.__ddCalls)).includes('open https://storj.dev/dcs/access'));
  await page.click('#btn-discard');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('client helpers: answer unwrapping, error shapes, bucket and address rules', { timeout: 30000 }, async () => {
  const page = await newPage();
  await page.goto(`${backend.url}/`);
  const r = await page.evaluate(async () => {
    const { unwrap, toApiError } = await import('/api.js');
    const v = await import('/validate.js');
    const err = (e) => {
      const a = toApiError(e);
      return { kind: a.kind, status: a.status ?? null, code: a.code, field: a.field, message: a.message };
    };
    return {
      wrapped: unwrap({ data: { state: 'running' }, status: 200, headers: {} }),
      wrappedText: unwrap({ data: '{"state":"stopped"}', status: 200, headers: {} }),
      text: unwrap('{"ok":true}'),
      plain: unwrap({ state: 'failed' }),
      serviceError: err({ name: 'ServiceError', statusCode: 400, message: '{"error":{"code":"invalid_value","message":"bad","field":"bucket"}}' }),
      textError: err({ name: 'ServiceError', statusCode: 500, message: 'boom' }),
      htmlError: err({ name: 'ServiceError', statusCode: 404, message: '<!DOCTYPE html><p>nope</p>' }),
      hangUp: err({ name: 'Error', message: 'socket hang up', statusCode: undefined }),
      refused: err({ name: 'ServiceError', statusCode: 500, message: 'connect ECONNREFUSED /run/guest-services/backend.sock' }),
      buckets: Object.fromEntries(
        ['my-registry', 'abc', 'a.b-c.d1', 'ab', 'Bad_Bucket', 'UPPER', '-start', 'end-', 'a..b', '.dot', 'dot.', '127.0.0.1', '1.2.3', 'a'.repeat(64), 'a'.repeat(63)].map(
          (b) => [b, v.bucketError(b) === ''],
        ),
      ),
      ports: ['1', '65535', '0', '65536', '80a', '', '9999'].map((p) => v.portError(p) === ''),
      binds: ['127.0.0.1', '0.0.0.0', '::1', '::', 'fe80::1', '::ffff:127.0.0.1', 'localhost', '256.1.1.1', '1:2:3:4:5:6:7:8:9'].map((b) => v.bindError(b) === ''),
    };
  });
  assert.deepEqual(r.wrapped, { state: 'running' });
  assert.deepEqual(r.wrappedText, { state: 'stopped' });
  assert.deepEqual(r.text, { ok: true });
  assert.deepEqual(r.plain, { state: 'failed' });
  assert.deepEqual(r.serviceError, { kind: 'http', status: 400, code: 'invalid_value', field: 'bucket', message: 'bad' });
  assert.equal(r.textError.kind, 'http');
  assert.equal(r.textError.message, 'boom');
  assert.equal(r.htmlError.message, 'The backend answered HTTP 404.');
  assert.equal(r.hangUp.kind, 'unreachable');
  assert.equal(r.refused.kind, 'unreachable');
  assert.deepEqual(r.buckets, {
    'my-registry': true, abc: true, 'a.b-c.d1': true, ab: false, Bad_Bucket: false, UPPER: false, '-start': false, 'end-': false,
    'a..b': false, '.dot': false, 'dot.': false, '127.0.0.1': false, '1.2.3': true, ['a'.repeat(64)]: false, ['a'.repeat(63)]: true,
  });
  assert.deepEqual(r.ports, [true, true, false, false, false, false, true]);
  assert.deepEqual(r.binds, [true, true, true, true, true, true, false, false, false]);
  await page.context().close();
});
