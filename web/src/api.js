// What the map's add-ons (bespoke.js, zones.js) share: a JSON request to the public API, and a wait for app.js's
// map. auth.js wraps window.fetch, so a partner key, if entered, goes with every request made here.

/// GET or POST path (with query params) and the parsed JSON; throws an Error carrying the server's message,
/// `status` and `code` on a non-2xx answer. `tracker.busy` counts requests in flight (tests wait for 0).
export async function requestJson(path, { method = 'GET', body = null, params = {} } = {}, tracker = null) {
  const url = new URL(path, window.location.href);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') url.searchParams.set(k, v);
  if (tracker) tracker.busy += 1;
  try {
    const headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error((json && json.message) || `${response.status} ${response.statusText}`);
      error.status = response.status;
      error.code = json && json.code;
      throw error;
    }
    return json;
  } finally {
    if (tracker) tracker.busy -= 1;
  }
}

/// Calls fn(map, state) once app.js's map has loaded its style and its state is ready.
export function whenMapReady(fn) {
  const map = window.smallareaMap;
  const state = window.smallareaState;
  if (!map || !state || !state.ready || !map.isStyleLoaded()) {
    setTimeout(() => whenMapReady(fn), 100);
    return;
  }
  fn(map, state);
}
