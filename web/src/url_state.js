// The view in the URL hash, so a copied link reproduces it:
// #dataset=..&measure=..&period=..&level=..&of=..&method=..&classes=..&map=zoom/lat/lng&area=CODE&bespoke=ID
// (a query string is read too, for links written by hand).

import { mapView } from './map.js';
import { state } from './state.js';

let lastWrittenHash = '';

/// The wanted view from the URL: the raw parameters plus `view` ({zoom, lat, lng}) when `map=` is well formed.
export function readUrl() {
  const raw = window.location.hash.replace(/^#/, '') || window.location.search.replace(/^\?/, '');
  const params = new URLSearchParams(raw);
  const wanted = Object.fromEntries(params.entries());
  if (wanted.map) {
    const [zoom, lat, lng] = wanted.map.split('/').map(Number);
    if ([zoom, lat, lng].every(Number.isFinite)) wanted.view = { zoom, lat, lng };
  }
  return wanted;
}

/// Writes the state (and the map's current view) into the hash without a history entry.
export function writeUrl() {
  const params = new URLSearchParams();
  for (const key of ['dataset', 'measure', 'period', 'level', 'of', 'method', 'classes']) {
    if (state[key] !== null && state[key] !== undefined) params.set(key, String(state[key]));
  }
  const view = mapView();
  if (view) state.view = view;
  if (state.view) params.set('map', `${state.view.zoom.toFixed(2)}/${state.view.lat.toFixed(5)}/${state.view.lng.toFixed(5)}`);
  if (state.area) params.set('area', state.area);
  if (state.bespoke) params.set('bespoke', state.bespoke);
  const hash = `#${params.toString().replace(/%2F/g, '/')}`;
  if (hash !== window.location.hash) {
    lastWrittenHash = hash;
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${hash}`);
  }
}

/// True when the hash is the one writeUrl last wrote (a hashchange the page caused, not the user).
export const isOwnHash = (hash) => hash === lastWrittenHash;
