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

// The "not for onward sharing" label once per group of download links (the element holding them: "CSV · XLSX" has
// one label, not two), after the last of them, and only while one of them is visible and internal data is shown.
function labelDownloads() {
  const internal = document.body.dataset.classification === 'internal';
  const groups = new Set([...document.querySelectorAll('a[download]')].map((link) => link.parentElement).filter(Boolean));
  for (const note of document.querySelectorAll('.internal-note')) {
    if (!groups.has(note.parentElement)) note.remove(); // its links are gone
  }
  for (const group of groups) {
    const links = [...group.querySelectorAll(':scope > a[download]')];
    const visible = links.filter((link) => !link.hidden);
    let note = group.querySelector(':scope > .internal-note');
    if (!note) {
      note = document.createElement('span');
      note.className = 'internal-note';
      note.textContent = ' Internal MI: not for onward sharing.';
    }
    const last = visible[visible.length - 1] || links[links.length - 1];
    if (last && note.previousElementSibling !== last) last.after(note);
    // Only flip when it differs: setting it again would queue another mutation and wake the observer forever.
    const hide = !internal || visible.length === 0 || Boolean(group.closest('[hidden]'));
    if (note.hidden !== hide) note.hidden = hide;
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
    attributes: true, attributeFilter: ['data-classification', 'hidden'], childList: true, subtree: true,
  });
}
