// Place context on the map (#14): the place search box, the chosen place's highlight, offline DOM labels and the
// ward outlines overlay. It uses only /api/search, /api/labels and /tiles (no figures, so no disclosure question: the
// answers carry names, codes, boxes and points only).
//
// - Search: a WAI-ARIA 1.2 combobox (input role=combobox with aria-expanded, aria-controls its listbox and
//   aria-activedescendant naming the active option; ArrowDown/ArrowUp move, Enter chooses, Escape closes, then
//   clears). Typing asks /api/search after a pause (debounced; the last answer wins). Choosing a place flies the
//   map to its box, outlines it (an area of a level the store has tiles for) or marks its point (a postcode, a
//   neighbourhood), and opens the panel of an area of the mapped level (a postcode's OA on an OA map).
// - Labels: absolutely positioned elements over the canvas, so the map needs no glyph server or CDN: district
//   names below zoom 12, ward names from 12, postcodes from 15 (the server lists postcodes only in small boxes).
//   They are placed again on every frame of a move and thinned so that none overlaps another.
// - Wards: a checkbox (only when /tiles/catalog lists a ward layer) drawing /tiles/ward outlines over the areas.

import { requestJson } from './api.js';
import { select } from './details.js';
import { $ } from './dom.js';
import { boundarySource, getMap } from './map.js';
import { catalog, state } from './state.js';
import { writeUrl } from './url_state.js';

const DEBOUNCE_MS = 200;
const WARD_ZOOM = 12; // ward names from this zoom, district names below it
const POSTCODE_ZOOM = 15; // postcode labels from this zoom (a box a few km across: the server's limit is 8 km)
const LABEL_CELL = 12; // px: the occupancy grid that keeps labels from overlapping

/// What the tests read (window.__smallareaTest.places): the chosen place, the labels' box and answer, the overlay.
export const places = {
  chosen: null, // the /api/search result last chosen
  labelBox: null, // [w,s,e,n] the shown labels were asked for
  labelKinds: null, // the kinds param sent ('' = the server's default kinds)
  labels: [], // the /api/labels answer's labels shown (before thinning)
  wardsShown: false,
};

// -------------------------------------------------------------------------------------------------- search box

let results = [];
let active = -1;
let searchToken = 0;
let timer = null;

function setExpanded(open) {
  const input = $('place-search');
  const list = $('place-results');
  list.hidden = !open;
  input.setAttribute('aria-expanded', open ? 'true' : 'false');
  if (!open) {
    active = -1;
    input.removeAttribute('aria-activedescendant');
  }
}

const KIND_WORD = { postcode: 'Postcode', ward: 'Ward', neighbourhood: 'Neighbourhood' };
const LEVEL_WORD = { oa: 'Output Area', lsoa: 'LSOA', msoa: 'MSOA', ward: 'Ward', lad: 'District' };

function describe(r) {
  if (r.kind === 'postcode') return [r.ward && r.ward.name, r.live === false ? 'terminated' : null].filter(Boolean).join(', ') || 'Postcode';
  if (r.kind === 'area') return `${LEVEL_WORD[r.level] || r.level} ${r.code}`;
  return KIND_WORD[r.kind] || r.kind;
}

function renderResults(query) {
  const list = $('place-results');
  list.replaceChildren();
  results.forEach((r, i) => {
    const li = document.createElement('li');
    li.id = `place-option-${i}`;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', 'false');
    li.className = 'place-option';
    const name = document.createElement('span');
    name.className = 'place-name';
    name.textContent = r.name;
    const what = document.createElement('span');
    what.className = 'place-kind';
    what.textContent = describe(r);
    li.append(name, what);
    // mousedown, not click: the input keeps the focus (the pattern's pointer behaviour).
    li.addEventListener('mousedown', (event) => {
      event.preventDefault();
      choose(i);
    });
    list.append(li);
  });
  $('place-status').textContent = query ? (results.length ? `${results.length} place${results.length === 1 ? '' : 's'} found` : 'No place found') : '';
  setExpanded(results.length > 0);
}

function setActive(i) {
  const input = $('place-search');
  const options = [...$('place-results').children];
  options.forEach((o, j) => o.setAttribute('aria-selected', j === i ? 'true' : 'false'));
  active = i;
  if (i >= 0 && options[i]) {
    input.setAttribute('aria-activedescendant', options[i].id);
    options[i].scrollIntoView({ block: 'nearest' });
  } else input.removeAttribute('aria-activedescendant');
}

async function search(query) {
  const token = ++searchToken;
  if (!query) {
    results = [];
    renderResults('');
    return;
  }
  try {
    const answer = await requestJson('/api/search', { params: { q: query, limit: 10 } });
    if (token !== searchToken) return; // a later keystroke's answer wins
    // A ward with a boundary comes twice (the area, and the place named by the postcode file): keep the area, whose
    // box is its boundary's and whose outline the map can draw.
    const all = answer.results || [];
    const areaWards = new Set(all.filter((r) => r.kind === 'area' && r.level === 'ward').map((r) => r.code));
    results = all.filter((r) => !(r.kind === 'ward' && areaWards.has(r.code)));
  } catch (error) {
    if (token !== searchToken) return;
    results = [];
    $('place-status').textContent = `Search failed: ${error.message}`;
    setExpanded(false);
    return;
  }
  renderResults(query);
}

function choose(i) {
  const r = results[i];
  if (!r) return;
  $('place-search').value = r.name;
  setExpanded(false);
  $('place-status').textContent = `Showing ${r.name}`;
  showPlace(r);
}

function onKey(event) {
  const open = !$('place-results').hidden;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    if (!open) {
      if (results.length) {
        setExpanded(true);
        setActive(event.key === 'ArrowDown' ? 0 : results.length - 1);
      }
      return;
    }
    const step = event.key === 'ArrowDown' ? 1 : -1;
    setActive(active < 0 ? (step > 0 ? 0 : results.length - 1) : (active + step + results.length) % results.length);
  } else if (event.key === 'Enter') {
    if (open && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (open && results.length) {
      event.preventDefault();
      choose(0);
    }
  } else if (event.key === 'Escape') {
    // The pattern: Escape closes the popup; when it is closed, Escape clears the box.
    if (open) setExpanded(false);
    else {
      $('place-search').value = '';
      results = [];
      $('place-status').textContent = '';
    }
    event.stopPropagation(); // not the area panel's Escape
  }
}

export function bindSearch() {
  const input = $('place-search');
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const query = input.value.trim().slice(0, 100); // the server takes 1-100 characters
    timer = setTimeout(() => search(query), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', onKey);
  input.addEventListener('blur', () => setExpanded(false));
}

// -------------------------------------------------------------------------------------------------- highlight

const HL_POINT = 'place-point';
const HL_BOX = 'place-box';

function ensureHighlightLayers(map) {
  if (!map.getSource(HL_POINT)) {
    map.addSource(HL_POINT, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'place-point-halo', type: 'circle', source: HL_POINT, paint: { 'circle-radius': 9, 'circle-color': '#ffffff', 'circle-opacity': 0.9 } });
    map.addLayer({ id: 'place-point', type: 'circle', source: HL_POINT,
      paint: { 'circle-radius': 6, 'circle-color': '#d6336c', 'circle-stroke-color': '#212529', 'circle-stroke-width': 1.5 } });
  }
  if (!map.getSource(HL_BOX)) {
    map.addSource(HL_BOX, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'place-box', type: 'line', source: HL_BOX, paint: { 'line-color': '#212529', 'line-width': 2, 'line-dasharray': [3, 2] } });
  }
}

// The area outline: the level's own tiles, filtered to the code (a dark casing under a pink line, as the selection).
function showAreaOutline(map, level, code) {
  for (const id of ['place-area-casing', 'place-area-line']) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource('place-area')) map.removeSource('place-area');
  if (!level) return;
  map.addSource('place-area', boundarySource(level));
  const common = { source: 'place-area', 'source-layer': level, filter: ['==', ['get', 'code'], code] };
  map.addLayer({ id: 'place-area-casing', type: 'line', ...common, paint: { 'line-color': '#212529', 'line-width': 6 } });
  map.addLayer({ id: 'place-area-line', type: 'line', ...common, paint: { 'line-color': '#f783ac', 'line-width': 3 } });
}

function showPlace(r) {
  const map = getMap();
  places.chosen = r;
  if (!map) return;
  ensureHighlightLayers(map);
  const [w, s, e, n] = r.bbox;
  const isArea = r.kind === 'area' && catalog.tileLevels.has(r.level);
  showAreaOutline(map, isArea ? r.level : null, r.code);
  const point = r.kind === 'postcode' || !isArea ? { type: 'Feature', properties: { name: r.name }, geometry: { type: 'Point', coordinates: r.point } } : null;
  map.getSource(HL_POINT).setData({ type: 'FeatureCollection', features: point ? [point] : [] });
  // A neighbourhood has no boundary layer: its box (the extent of its postcodes) stands in for an outline.
  const box = !isArea && r.kind !== 'postcode' && (e > w || n > s)
    ? { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } } : null;
  map.getSource(HL_BOX).setData({ type: 'FeatureCollection', features: box ? [box] : [] });
  if (e > w || n > s) map.fitBounds([[w, s], [e, n]], { padding: 48, maxZoom: POSTCODE_ZOOM, duration: 600 });
  else map.flyTo({ center: r.point, zoom: POSTCODE_ZOOM, duration: 600 }); // a postcode's box is its point
  // An area of the mapped level opens its panel; a postcode opens its OA's on an OA map.
  if (r.kind === 'area' && r.level === state.level) select(r.code);
  else if (r.kind === 'postcode' && r.area && r.area.level === state.level) select(r.area.code);
}

// -------------------------------------------------------------------------------------------------- labels

let labelToken = 0;
let labelEls = []; // [{el, label, w, h}]

function labelKinds(zoom) {
  if (zoom >= POSTCODE_ZOOM) return ''; // the server's default kinds: postcodes included while the box is small
  return zoom >= WARD_ZOOM ? 'ward' : 'lad';
}

function shownKinds(zoom) {
  if (zoom >= POSTCODE_ZOOM) return new Set(['ward', 'postcode']);
  return new Set([zoom >= WARD_ZOOM ? 'ward' : 'lad']);
}

async function refreshLabels() {
  const map = getMap();
  if (!map) return;
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const box = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85)]
    .map((v) => Number(v.toFixed(6)));
  const zoom = map.getZoom();
  const kinds = labelKinds(zoom);
  const token = ++labelToken;
  let answer;
  try {
    answer = await requestJson('/api/labels', { params: { bbox: box.join(','), ...(kinds ? { kinds } : {}) } });
  } catch (error) {
    console.warn('labels:', error.message);
    return;
  }
  if (token !== labelToken) return;
  const wanted = shownKinds(zoom);
  places.labelBox = box;
  places.labelKinds = kinds;
  places.labels = (answer.labels || []).filter((l) => wanted.has(l.kind));
  renderLabels();
}

function renderLabels() {
  const layer = $('map-labels');
  layer.replaceChildren();
  // Coarser places first: they win a place over the postcodes around them.
  const order = { lad: 0, ward: 1, neighbourhood: 2, postcode: 3 };
  // The chosen place's own label comes first, set above its marker (placeLabels), emphasised.
  const chosen = places.chosen && places.chosen.kind === 'postcode' ? places.chosen.code : null;
  const rank = (l) => (l.kind === 'postcode' && l.code === chosen ? -1 : order[l.kind]);
  labelEls = [...places.labels].sort((a, b) => rank(a) - rank(b)).map((label) => {
    const el = document.createElement('span');
    el.className = `map-label map-label-${label.kind}${rank(label) < 0 ? ' map-label-chosen' : ''}`;
    if (rank(label) < 0) el.dataset.chosen = 'true';
    el.dataset.kind = label.kind;
    el.dataset.code = label.code;
    el.textContent = label.name;
    layer.append(el);
    return { el, label, w: 0, h: 0 };
  });
  for (const item of labelEls) {
    item.w = item.el.offsetWidth;
    item.h = item.el.offsetHeight;
  }
  placeLabels();
}

// Places every label at its point and hides those that would overlap one already placed (an occupancy grid).
function placeLabels() {
  const map = getMap();
  if (!map || labelEls.length === 0) return;
  const width = map.getContainer().clientWidth;
  const height = map.getContainer().clientHeight;
  const taken = new Set();
  const occupy = (x0, y0, w, h) => {
    for (let cx = Math.floor(x0 / LABEL_CELL); cx <= Math.floor((x0 + w) / LABEL_CELL); cx += 1) {
      for (let cy = Math.floor(y0 / LABEL_CELL); cy <= Math.floor((y0 + h) / LABEL_CELL); cy += 1) taken.add(cx * 100003 + cy);
    }
  };
  // The map's controls (zoom buttons, scale, attribution, the table button) stay readable: no label under them.
  const origin = map.getContainer().getBoundingClientRect();
  for (const el of map.getContainer().parentElement.querySelectorAll('.maplibregl-ctrl, .map-table-button')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0) occupy(r.left - origin.left, r.top - origin.top, r.width, r.height);
  }
  // The chosen place's marker too (places.js draws it at its point, 9 px across).
  if (places.chosen && places.chosen.kind === 'postcode') {
    const m = map.project(places.chosen.point);
    occupy(m.x - 9, m.y - 9, 18, 18);
  }
  for (const item of labelEls) {
    const p = map.project(item.label.point);
    const chosen = item.el.dataset.chosen === 'true';
    const x0 = p.x - item.w / 2;
    const y0 = chosen ? p.y - item.h - 11 : p.y - item.h / 2; // the chosen label sits above its marker
    let show = x0 >= 0 && y0 >= 0 && x0 + item.w <= width && y0 + item.h <= height;
    const cells = [];
    if (show) {
      for (let cx = Math.floor(x0 / LABEL_CELL); cx <= Math.floor((x0 + item.w) / LABEL_CELL) && show; cx += 1) {
        for (let cy = Math.floor(y0 / LABEL_CELL); cy <= Math.floor((y0 + item.h) / LABEL_CELL); cy += 1) {
          const key = cx * 100003 + cy;
          if (taken.has(key) && !chosen) { // the chosen place's label is always drawn (it is first, after the controls)
            show = false;
            break;
          }
          cells.push(key);
        }
      }
    }
    if (show) for (const key of cells) taken.add(key);
    item.el.hidden = !show;
    if (show) item.el.style.transform = `translate(${Math.round(x0)}px, ${Math.round(y0)}px)`;
  }
}

// -------------------------------------------------------------------------------------------------- wards overlay

function setWards(on) {
  const map = getMap();
  places.wardsShown = on;
  if (!map || !map.getLayer('ward-outline')) return;
  map.setLayoutProperty('ward-outline', 'visibility', on ? 'visible' : 'none');
}

/// Once the map has loaded (after map.js's context layers): the ward overlay (hidden), the label layer's events.
export function startPlaces(map) {
  const toggle = $('ward-overlay');
  if (catalog.tileLevels.has('ward')) {
    map.addSource('ward-context', boundarySource('ward'));
    // Above the choropleth (map.js inserts its area layers under lad-outline, which comes before this one).
    map.addLayer({ id: 'ward-outline', type: 'line', source: 'ward-context', 'source-layer': 'ward', layout: { visibility: 'none' },
      paint: { 'line-color': '#5f3dc4', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1, 14, 2.5], 'line-dasharray': [2, 1.5] } });
    $('ward-overlay-field').hidden = false;
    toggle.checked = Boolean(state.wards); // a shared link with wards=1
    toggle.addEventListener('change', () => {
      state.wards = toggle.checked;
      setWards(toggle.checked);
      writeUrl();
    });
    setWards(toggle.checked);
  }
  map.on('move', placeLabels);
  map.on('moveend', refreshLabels);
  refreshLabels();
}
