// Partner API key for internal MI.
//
// Internal datasets are served only to organisations that signed a confidentiality agreement, with
// `Authorization: Bearer KEY`. The key is entered here and kept in sessionStorage only (gone when the tab closes;
// never in the URL, so never in a copied link, the history or a server log). api.js sends it, explicitly, on the
// page's own requests, on MapLibre's tile and TileJSON requests and on downloads; this module only keeps it and
// offers the form. Every view of internal data says "Internal MI: not for onward sharing" (banner, legend, next to
// downloads).

const STORAGE = 'smallarea.key';

export function apiKey() {
  try {
    return window.sessionStorage.getItem(STORAGE) || '';
  } catch {
    return '';
  }
}

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

/// The key form in the top bar and the internal-MI labels beside downloads (kept up to date as links appear and the
/// classification changes). Called once by main.js.
export function installKeyForm() {
  buildKeyForm();
  labelDownloads();
  new MutationObserver(labelDownloads).observe(document.body, {
    attributes: true, attributeFilter: ['data-classification'], childList: true, subtree: true,
  });
}
