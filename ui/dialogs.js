// @ts-check
// Dialogs: a yes/no question, and "Remove the registry's containers?".
// Focus stays inside while open and returns to the opener on close.

import { api } from './api.js';
import { state, markReachable, markUnreachable, setStatus, render, poller } from './state.js';
import { toast } from './desktop.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const dialog = (/** @type {string} */ id) => /** @type {HTMLDialogElement} */ (document.getElementById(id));

/** @param {HTMLElement} root */
function focusables(root) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')]).filter(
    (n) => !(/** @type {HTMLButtonElement} */ (n).disabled) && n.offsetParent !== null,
  );
}

/** @param {HTMLDialogElement} dlg */
function trapFocus(dlg) {
  dlg.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const f = focusables(dlg);
    if (!f.length) return;
    const first = f[0];
    const last = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      last.focus();
      e.preventDefault();
    } else if (!e.shiftKey && document.activeElement === last) {
      first.focus();
      e.preventDefault();
    }
  });
  dlg.addEventListener('click', (e) => {
    if (e.target === dlg) dlg.close('cancel'); // a click on the backdrop
  });
}

/**
 * A yes/no question in the confirm dialog; resolves true on confirm.
 * @param {{title: string, body: string, confirm: string}} q
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, body, confirm }) {
  const dlg = dialog('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-desc').textContent = body;
  $('confirm-ok').textContent = confirm;
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  dlg.returnValue = '';
  dlg.showModal();
  $('confirm-cancel').focus();
  return new Promise((resolve) => {
    dlg.addEventListener(
      'close',
      () => {
        if (opener && document.contains(opener)) opener.focus();
        resolve(dlg.returnValue === 'confirm');
      },
      { once: true },
    );
  });
}

/** @type {HTMLElement | null} */
let removeOpener = null;

export function openRemoveDialog() {
  if (state.busy) return;
  removeOpener = /** @type {HTMLElement | null} */ (document.activeElement);
  const dlg = dialog('remove-dialog');
  /** @type {HTMLInputElement} */ ($('remove-purge')).checked = false;
  const mode = state.status?.mode || state.config?.mode;
  const local = mode === 'local' || !mode;
  $('remove-purge-row').hidden = !local;
  $('remove-purge-note').hidden = !local;
  $('remove-desc').textContent = local
    ? 'This stops and deletes the registry’s containers. Your settings are kept, and so are the stored images unless you also delete the volume.'
    : `This stops and deletes the registry’s containers. Your settings are kept, and so are the images in the bucket${state.config?.bucket ? ` “${state.config.bucket}”` : ''}.`;
  dlg.returnValue = '';
  dlg.showModal();
  $('remove-cancel').focus();
}

async function onRemoveClosed() {
  const dlg = dialog('remove-dialog');
  // back to what opened it (the menu's item is gone with the menu: its button)
  const back = removeOpener && removeOpener.offsetParent !== null ? removeOpener : $('btn-menu');
  back.focus();
  if (dlg.returnValue !== 'confirm') return;
  const purge = /** @type {HTMLInputElement} */ ($('remove-purge')).checked && !$('remove-purge-row').hidden;
  state.busy = 'remove';
  render();
  try {
    const res = await api.remove(purge);
    markReachable();
    if (res && typeof res === 'object' && typeof res.state === 'string') setStatus(res);
    toast('success', purge ? 'Registry removed, and its local volume deleted.' : 'Registry removed. Your settings are kept.');
  } catch (err) {
    if (err.unreachable) markUnreachable(err);
    toast('error', `Could not remove the registry: ${err.message}`);
  } finally {
    state.busy = null;
    render();
    poller.poll();
  }
}

export function bindDialogs() {
  const dlg = dialog('remove-dialog');
  dlg.addEventListener('close', onRemoveClosed);
  trapFocus(dlg);
  trapFocus(dialog('confirm-dialog'));
  $('btn-remove').addEventListener('click', openRemoveDialog);
  $('menu-remove').addEventListener('click', () => {
    $('btn-menu').focus();
    openRemoveDialog();
  });
}
