// The page's one HTTP client. Same-origin requests carry the partner key (auth.js) as `Authorization: Bearer KEY`,
// added here explicitly; other origins (a basemap) never see it. It covers:
//  - the JSON API (requestJson), counting requests in flight so the test hook can wait for a quiet page;
//  - MapLibre's tile and TileJSON requests (transformRequest: tiles are fetched in a worker, not by this module);
//  - CSV/XLSX/GeoJSON/GeoPackage download links (an <a download> cannot send headers: with a key, the file is
//    fetched here and saved from a Blob).

import { apiKey } from './auth.js';

let inFlight = 0;

/// Requests to the JSON API not yet answered (fetched and read).
export const requestsInFlight = () => inFlight;

function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

// fetch() with the partner key on a same-origin URL.
function fetchWithKey(url, init = {}) {
  const key = apiKey();
  if (!key || !sameOrigin(url)) return fetch(url, init);
  const headers = new Headers(init.headers);
  if (!headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
  return fetch(url, { ...init, headers });
}

/// MapLibre `transformRequest`: adds the key to same-origin requests (tiles, TileJSON).
export function transformRequest(url) {
  const key = apiKey();
  if (!key || !sameOrigin(url)) return { url };
  return { url, headers: { Authorization: `Bearer ${key}` } };
}

/// GET or POST path (with query params, empty ones left out) and the parsed JSON; throws an Error carrying the
/// server's message, `status` and `code` on a non-2xx answer.
export async function requestJson(path, { method = 'GET', body = null, params = {} } = {}) {
  const url = new URL(path, window.location.href);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') url.searchParams.set(k, v);
  inFlight += 1;
  try {
    const headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    const response = await fetchWithKey(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (error) {
      if (response.ok) throw new Error(`${url.pathname} did not answer JSON: ${error.message}`);
    }
    if (!response.ok) {
      const error = new Error((json && json.message) || `${response.status} ${response.statusText}`);
      error.status = response.status;
      error.code = json && json.code;
      throw error;
    }
    return json;
  } finally {
    inFlight -= 1;
  }
}

/// With a key, a click on a same-origin /api/ download link fetches the file with the header and saves it from a
/// Blob under the server's file name; without a key the browser follows the link itself. Called once by main.js.
export function installDownloads() {
  document.addEventListener('click', async (event) => {
    const link = event.target.closest && event.target.closest('a[download]');
    if (!link || !apiKey() || !sameOrigin(link.href) || link.href.startsWith('blob:')) return;
    const path = new URL(link.href).pathname;
    if (!path.startsWith('/api/')) return;
    event.preventDefault();
    try {
      const response = await fetchWithKey(link.href);
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
}
