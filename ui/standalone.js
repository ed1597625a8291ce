// @ts-check
// Standalone mode: when the page is not inside Docker Desktop (no
// window.ddClient), provide the small part of Desktop's client that the tab
// uses, over fetch to the same origin. The backend serves this folder at /
// and its API under /api/ on a loopback address.
(function () {
  'use strict';
  if (window.ddClient) return;

  function request(method, url, data) {
    /** @type {any} */
    var init = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
    if (data !== undefined && method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof data === 'string' ? data : JSON.stringify(data);
    }
    return fetch(url, init).then(
      function (res) {
        return res.text().then(function (text) {
          if (!res.ok) {
            // The shape of Desktop's ServiceError: the body text in message.
            return Promise.reject({ name: 'ServiceError', message: text, statusCode: res.status });
          }
          if (text === '') return null;
          try {
            return JSON.parse(text);
          } catch (e) {
            return text;
          }
        });
      },
      function (err) {
        // No answer at all: like Desktop's transport errors, no statusCode.
        return Promise.reject({ name: 'Error', message: (err && err.message) || 'Failed to fetch' });
      }
    );
  }

  var toasts = null;
  function toast(kind, message) {
    if (!toasts) {
      toasts = document.createElement('div');
      toasts.className = 'sr-toasts';
      toasts.setAttribute('role', 'status');
      toasts.setAttribute('aria-live', 'polite');
      document.body.appendChild(toasts);
    }
    var el = document.createElement('div');
    el.className = 'sr-toast ' + kind;
    var text = document.createElement('span');
    text.textContent = String(message);
    var close = document.createElement('button');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss');
    close.textContent = '×';
    close.addEventListener('click', function () { el.remove(); });
    el.appendChild(text);
    el.appendChild(close);
    toasts.appendChild(el);
    while (toasts.children.length > 4) toasts.firstChild.remove();
    setTimeout(function () { el.remove(); }, kind === 'error' ? 9000 : 5000);
  }

  var service = {
    get: function (url) { return request('GET', url); },
    head: function (url) { return request('HEAD', url); },
    post: function (url, data) { return request('POST', url, data); },
    put: function (url, data) { return request('PUT', url, data); },
    patch: function (url, data) { return request('PATCH', url, data); },
    delete: function (url) { return request('DELETE', url); },
    request: function (cfg) { return request(String(cfg.method || 'GET').toUpperCase(), cfg.url, cfg.data); },
  };

  window.ddClient = {
    standalone: true,
    extension: { vm: { service: service } },
    desktopUI: {
      toast: {
        success: function (m) { toast('success', m); },
        warning: function (m) { toast('warning', m); },
        error: function (m) { toast('error', m); },
      },
    },
    host: {
      openExternal: function (url) { window.open(url, '_blank', 'noopener'); },
      platform: 'browser',
    },
  };
})();
