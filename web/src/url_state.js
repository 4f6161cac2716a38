// The view in the URL hash, so a copied link reproduces it:
// #dataset=..&measure=..&period=..&compare=..&level=..&vintage=..&of=..&method=..&classes=..&map=zoom/lat/lng&area=CODE&bespoke=ID
// &wards=1&targets=MIN-MAX-LIMIT&targets_within=CODE&zones=MIN-MAX-COUNT-CONTIGUITY&zones_within=CODE
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
  // Tool parameters: whole numbers only (anything else is ignored, as a hand-edited link may hold).
  const ints = (text, n) => {
    const parts = String(text || '').split('-');
    const nums = parts.slice(0, n).map((x) => (/^\d{1,7}$/.test(x) ? Number(x) : NaN));
    return nums.length === n && nums.every(Number.isFinite) ? { nums, rest: parts.slice(n) } : null;
  };
  const t = ints(wanted.targets, 3);
  wanted.targets = t ? { min: t.nums[0], max: t.nums[1], limit: t.nums[2], within: wanted.targets_within || null } : null;
  const z = ints(wanted.zones, 3);
  wanted.zones = z && ['rook', 'queen'].includes(z.rest[0]) && wanted.zones_within
    ? { min: z.nums[0], max: z.nums[1], limit: z.nums[2], contiguity: z.rest[0], within: wanted.zones_within } : null;
  return wanted;
}

/// Writes the state (and the map's current view) into the hash without a history entry.
export function writeUrl() {
  const params = new URLSearchParams();
  for (const key of ['dataset', 'measure', 'period', 'compare', 'level', 'vintage', 'of', 'method', 'classes']) {
    if (state[key] !== null && state[key] !== undefined) params.set(key, String(state[key]));
  }
  const view = mapView();
  if (view) state.view = view;
  if (state.view) params.set('map', `${state.view.zoom.toFixed(2)}/${state.view.lat.toFixed(5)}/${state.view.lng.toFixed(5)}`);
  if (state.area) params.set('area', state.area);
  if (state.wards) params.set('wards', '1');
  if (state.bespoke) params.set('bespoke', state.bespoke);
  // The outreach tools' last parameters, so a shared link lists the same targets or builds the same zones.
  if (state.targets) params.set('targets', [state.targets.min, state.targets.max, state.targets.limit].join('-'));
  if (state.targets && state.targets.within) params.set('targets_within', state.targets.within);
  if (state.zones) {
    const z = state.zones;
    params.set('zones', [z.min, z.max, z.limit, z.contiguity].join('-'));
    params.set('zones_within', z.within);
  }
  const hash = `#${params.toString().replace(/%2F/g, '/')}`;
  if (hash !== window.location.hash) {
    lastWrittenHash = hash;
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${hash}`);
  }
}

/// True when the hash is the one writeUrl last wrote (a hashchange the page caused, not the user).
export const isOwnHash = (hash) => hash === lastWrittenHash;
