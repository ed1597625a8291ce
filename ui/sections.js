// @ts-check
// The overview's sections as ARIA tabs (Images, Clean-up, Access, Docker Hub
// cache, Settings, Logs), remembered in localStorage so that the tab comes
// back where it was after Docker Desktop tears it down; the header's menu
// (Help, Remove containers…); and the Push and Export dialogs.

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

export const SECTIONS = ['images', 'cleanup', 'access', 'cache', 'settings', 'logs'];
const SECTION_KEY = 'storj-registry.section.v1';

/** @type {Array<(name: string) => void>} */
const listeners = [];

/** @param {(name: string) => void} fn called after a section is shown */
export function onSection(fn) {
  listeners.push(fn);
}

function stored() {
  try {
    const v = localStorage.getItem(SECTION_KEY) || '';
    return SECTIONS.includes(v) ? v : 'images';
  } catch {
    return 'images';
  }
}

let current = 'images';

export function currentSection() {
  return current;
}

/**
 * Shows one section; focus moves to its tab when asked (keyboard use).
 * @param {string} name
 * @param {{focus?: boolean, remember?: boolean}} [opts]
 */
export function showSection(name, { focus = false, remember = true } = {}) {
  if (!SECTIONS.includes(name)) name = 'images';
  current = name;
  for (const s of SECTIONS) {
    const tab = $(`tab-${s}`);
    const on = s === name;
    tab.setAttribute('aria-selected', on ? 'true' : 'false');
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${s}`).hidden = !on;
  }
  document.documentElement.dataset.section = name;
  if (focus) $(`tab-${name}`).focus();
  if (remember) {
    try {
      localStorage.setItem(SECTION_KEY, name);
    } catch {
      /* ignore */
    }
  }
  for (const fn of listeners) fn(name);
}

/**
 * A small marker beside a section's name ('' hides it).
 * @param {string} name @param {string} text @param {string} [tone] ok | warn | bad
 */
export function setMarker(name, text, tone = '') {
  const m = $(`mark-${name}`);
  if (!m) return;
  if (m.textContent !== text) m.textContent = text;
  m.hidden = !text;
  m.dataset.tone = tone;
}

/* ---------- header menu ---------- */

function menuItems() {
  return /** @type {HTMLButtonElement[]} */ ([...$('header-menu').querySelectorAll('[role=menuitem]')]).filter((b) => !b.hidden && !b.disabled);
}

/** @param {boolean} open @param {boolean} [focusFirst] */
function setMenu(open, focusFirst = false) {
  const btn = $('btn-menu');
  $('header-menu').hidden = !open;
  btn.setAttribute('aria-expanded', open ? 'true' : 'false');
  if (open && focusFirst) menuItems()[0]?.focus();
}

export function closeMenu() {
  if (!$('header-menu').hidden) setMenu(false);
}

function bindMenu() {
  const btn = $('btn-menu');
  const menu = $('header-menu');
  btn.addEventListener('click', () => setMenu(menu.hidden, true));
  btn.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setMenu(true, true);
    }
  });
  menu.addEventListener('keydown', (e) => {
    const items = menuItems();
    const i = items.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    if (e.key === 'Escape') {
      setMenu(false);
      btn.focus();
    } else if (e.key === 'ArrowDown') items[(i + 1) % items.length]?.focus();
    else if (e.key === 'ArrowUp') items[(i - 1 + items.length) % items.length]?.focus();
    else if (e.key === 'Home') items[0]?.focus();
    else if (e.key === 'End') items[items.length - 1]?.focus();
    else if (e.key === 'Tab') setMenu(false);
    else return;
    e.preventDefault();
  });
  // an item used, or a click elsewhere, closes it
  menu.addEventListener('click', () => setMenu(false));
  document.addEventListener('click', (e) => {
    const t = /** @type {Node} */ (e.target);
    if (!menu.hidden && !menu.contains(t) && !btn.contains(t)) setMenu(false);
  });
}

/* ---------- dialogs that hold a whole piece of the tab ---------- */

/**
 * @param {string} dialogId
 * @param {string} closeId
 */
function bindPanelDialog(dialogId, closeId) {
  const dlg = /** @type {HTMLDialogElement} */ ($(dialogId));
  /** @type {HTMLElement | null} */
  let opener = null;
  $(closeId).addEventListener('click', () => dlg.close());
  dlg.addEventListener('click', (e) => {
    if (e.target === dlg) dlg.close(); // the backdrop
  });
  dlg.addEventListener('close', () => {
    if (opener && document.contains(opener) && opener.offsetParent !== null) opener.focus();
  });
  return () => {
    opener = /** @type {HTMLElement | null} */ (document.activeElement);
    if (!dlg.open) dlg.showModal();
  };
}

/** Opens the Push an image dialog. */
export let openPush = () => {};
/** Opens the Export for a team dialog. */
export let openTeam = () => {};
/** Opens the short guide (Help). */
export let openHelp = () => {};

export function bindSections() {
  const list = $('sections');
  list.addEventListener('click', (e) => {
    const t = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[role=tab]'));
    if (t?.dataset.section) showSection(t.dataset.section);
  });
  list.addEventListener('keydown', (e) => {
    const i = SECTIONS.indexOf(current);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % SECTIONS.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + SECTIONS.length) % SECTIONS.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = SECTIONS.length - 1;
    if (next < 0) return;
    e.preventDefault();
    showSection(SECTIONS[next], { focus: true });
  });
  bindMenu();
  openPush = bindPanelDialog('push-dialog', 'push-close');
  openTeam = bindPanelDialog('team-dialog', 'team-close');
  openHelp = bindPanelDialog('help-dialog', 'help-close');
  showSection(stored(), { remember: false });
}
