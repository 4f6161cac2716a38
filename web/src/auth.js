// Partner API key for internal MI.
//
// Internal datasets are served only to organisations that signed a confidentiality agreement, with
// `Authorization: Bearer KEY`. The key is entered here and kept in sessionStorage only (gone when the tab closes;
// never in the URL, so never in a copied link, the history or a server log). It is sent:
//  - on every same-origin fetch of the page (window.fetch is wrapped, so bespoke/target panels need no changes),
//  - on MapLibre's tile and TileJSON requests (transformRequest: tiles are fetched in a worker, not via window.fetch),
//  - on CSV/XLSX download links (an <a download> cannot send headers: the file is fetched and saved from a Blob).
// Every view of internal data says "Internal MI: not for onward sharing" (banner, legend, next to downloads).

const STORAGE = 'smallarea.key';

export function apiKey() {
  try {
    return window.sessionStorage.getItem(STORAGE) || '';
  } catch {
    return '';
  }
}

function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

/// MapLibre `transformRequest`: adds the key to same-origin requests (tiles, TileJSON).
export function transformRequest(url) {
  const key = apiKey();
  if (!key || !sameOrigin(url)) return { url };
  return { url, headers: { Authorization: `Bearer ${key}` } };
}

// Same-origin fetches carry the key; other origins (a basemap) never see it.
const originalFetch = window.fetch.bind(window);
window.fetch = (input, init = {}) => {
  const key = apiKey();
  const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
  if (!key || !sameOrigin(url)) return originalFetch(input, init);
  const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
  if (!headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
  return originalFetch(input, { ...init, headers });
};

// Downloads: with a key, fetch the file with the header and save it from a Blob.
document.addEventListener('click', async (event) => {
  const link = event.target.closest && event.target.closest('a[download]');
  if (!link || !apiKey() || !sameOrigin(link.href) || link.href.startsWith('blob:')) return;
  const path = new URL(link.href).pathname;
  if (!path.startsWith('/api/')) return;
  event.preventDefault();
  try {
    const response = await window.fetch(link.href);
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const blob = await response.blob();
    const objectUrl = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = objectUrl;
    // The server's file name says what the file is (dataset, measure, period, area, date).
    const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
    a.download = (named && named[1]) || link.getAttribute('download') || 'smallarea-download';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(objectUrl), 10000);
  } catch (error) {
    window.alert(`Download failed: ${error.message}`);
  }
});

// The "not for onward sharing" label next to every download link while internal data is shown.
function labelDownloads() {
  const internal = document.body.dataset.classification === 'internal';
  for (const link of document.querySelectorAll('a[download]')) {
    let note = link.nextElementSibling;
    if (!note || !note.classList.contains('internal-note')) {
      note = document.createElement('span');
      note.className = 'internal-note';
      note.textContent = ' Internal MI: not for onward sharing.';
      link.after(note);
    }
    note.hidden = !internal;
  }
}

function buildKeyForm() {
  const topbar = document.querySelector('.topbar');
  if (!topbar || document.getElementById('api-key-form')) return;
  const key = apiKey();
  const details = document.createElement('details');
  details.className = 'api-key';
  details.innerHTML = `
    <summary id="api-key-summary"></summary>
    <form id="api-key-form" autocomplete="off">
      <label for="api-key-input">Partner API key (internal MI)</label>
      <input id="api-key-input" type="password" spellcheck="false" autocomplete="off" placeholder="sak_…">
      <button type="submit">Use key</button>
      <button type="button" id="api-key-forget">Forget</button>
      <p class="api-key-help">Kept in this browser tab only. Internal MI is for named partners under a
        confidentiality agreement: not for onward sharing.</p>
    </form>`;
  topbar.appendChild(details);
  const summary = details.querySelector('#api-key-summary');
  summary.textContent = key ? `Partner key ${key.slice(0, 12)}…` : 'Partner key';
  details.querySelector('#api-key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = details.querySelector('#api-key-input').value.trim();
    if (!value) return;
    window.sessionStorage.setItem(STORAGE, value);
    window.location.reload(); // the dataset list, tiles and tables are reloaded with the key
  });
  details.querySelector('#api-key-forget').addEventListener('click', () => {
    window.sessionStorage.removeItem(STORAGE);
    window.location.reload();
  });
}

function init() {
  buildKeyForm();
  labelDownloads();
  new MutationObserver(labelDownloads).observe(document.body, {
    attributes: true, attributeFilter: ['data-classification'], childList: true, subtree: true,
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();

window.smallareaAuth = { apiKey, transformRequest };
