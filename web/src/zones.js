// The zone builder on the map: what POST /api/zones does, the page offers (public API only).
//  - "Build zones" grows contiguous patches of the mapped dataset's areas inside a district (or the bespoke area
//    shown), each with households in the band, from the areas with the highest protected rate;
//  - the zones are outlined on the map and listed with their figures (value ± the rounding bound, rate, partial and
//    rounding notes); a zone zooms the map on click; areas that could not be placed are counted with their reasons;
//  - CSV, XLSX, GeoJSON and GeoPackage of all the zones are the files /api/export/bespoke gives. Zones built with a
//    partner key are private to its organisation (the server says so; rule 7).

import { requestJson } from './api.js';
import { bespoke } from './bespoke.js';
import { $ } from './dom.js';
import { boundarySource, getMap } from './map.js';
import { openSheet } from './sheet.js';
import { state } from './state.js';
import { writeUrl } from './url_state.js';
import { bespokeExportLinks, escapeHtml, formatBound, formatCount, formatRate, levelNoun, partialText, roundingText } from './text.js';

const ZONES_SOURCE = 'zones-members';

/// The builder's state (the browser tests read it through main.js's test hook).
export const zones = {
  result: null, // the last POST /api/zones answer
  level: null, // the level ZONES_SOURCE's tiles are at
  started: false,
};

// Zone members are at the dataset's own level, whatever level the map shows: their own source at that level.
function ensureLayer(map, level) {
  if (zones.level !== level) {
    if (map.getLayer('zones-line')) map.removeLayer('zones-line');
    if (map.getSource(ZONES_SOURCE)) map.removeSource(ZONES_SOURCE);
    zones.level = level;
  }
  if (!map.getSource(ZONES_SOURCE)) {
    map.addSource(ZONES_SOURCE, boundarySource(level));
    map.addLayer({ id: 'zones-line', type: 'line', source: ZONES_SOURCE, 'source-layer': level,
      filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#c2255c', 'line-width': 2.5 } });
  }
}

function refresh() {
  const map = getMap();
  if (!map || !map.isStyleLoaded() || !zones.result) return;
  ensureLayer(map, zones.result.level);
  const codes = zones.result.zones.flatMap((z) => z.members);
  map.setFilter('zones-line', ['in', ['get', 'code'], ['literal', codes]]);
}

// Districts are fetched once; the options are rebuilt when a bespoke area is shown (it becomes the first choice).
let districts = null;
async function fillWithin() {
  const select = $('zones-within');
  const shown = bespoke.meta;
  if (!districts) districts = (await requestJson('/api/areas', { params: { level: 'lad' } }).catch(() => ({ areas: [] }))).areas || [];
  const options = districts.map((a) => `<option value="${escapeHtml(a.code)}">${escapeHtml(a.name)} (${escapeHtml(a.code)})</option>`);
  if (shown) options.unshift(`<option value="bespoke:${escapeHtml(shown.id)}">Bespoke area: ${escapeHtml(shown.name)}</option>`);
  select.innerHTML = options.join('');
}

function zoneFigures(z, percent) {
  if (percent) return '';
  const value = z.value === null || z.value === undefined ? '–' : formatCount(z.value);
  const bound = typeof z.uncertainty === 'number' && z.uncertainty > 0 ? ` ± ${formatBound(z.uncertainty)}` : '';
  const rate = z.rate === null || z.rate === undefined ? '' : `, ${formatRate(z.rate)} per 100 households`;
  return `${value}${bound}${rate}`;
}

function render(result) {
  const level = result.level;
  const reasons = {};
  for (const u of result.unplaced) reasons[u.reason] = (reasons[u.reason] || 0) + 1;
  const unplaced = Object.entries(reasons).map(([r, n]) => `${n} ${r.replace(/_/g, ' ')}`).join(', ');
  $('zones-status').textContent = `${result.zones.length} zones of ${result.min_households}–${result.max_households} households ` +
    `from ${formatCount(result.areas)} ${levelNoun(level, result.areas)}` + (unplaced ? `; not placed: ${unplaced}.` : '.') +
    (result.zones.length && result.zones[0].visibility === 'private' ? ' Private to your organisation.' : '');
  $('zones-list').innerHTML = result.zones.map((z) => {
    const notes = [partialText(z, level), roundingText(z, null)].filter(Boolean).map((t) => ` <span class="partial">${escapeHtml(t)}</span>`).join('');
    return `<li><button type="button" data-zone="${escapeHtml(z.id)}">${escapeHtml(`Zone ${z.rank}`)}</button> ` +
      `<span class="target-figures">${z.members.length} ${escapeHtml(levelNoun(level, z.members.length))}, ${formatCount(z.households)} households, ${zoneFigures(z, false)}</span>${notes}` +
      ` <button type="button" class="link-button sheet-button" data-zone-sheet="${escapeHtml(z.id)}" aria-label="Outreach sheet for zone ${z.rank}">Outreach sheet</button></li>`;
  }).join('');
  $('zones-exports').innerHTML = result.zones.length
    ? `Download the zones: ${bespokeExportLinks(result.zones.map((z) => z.id), state, true)}` : '';
  $('zones-exports').hidden = result.zones.length === 0;
}

async function build() {
  $('zones-status').textContent = 'Building zones…';
  // The parameters go in the URL, so a shared link builds the same zones.
  state.zones = { within: $('zones-within').value, min: Number($('zones-min').value), max: Number($('zones-max').value),
    limit: Number($('zones-limit').value), contiguity: $('zones-contiguity').value };
  writeUrl();
  try {
    const result = await requestJson('/api/zones', {
      method: 'POST',
      body: {
        dataset: state.dataset, measure: state.measure, period: state.period, within: $('zones-within').value,
        min_households: Number($('zones-min').value), max_households: Number($('zones-max').value),
        max_zones: Number($('zones-limit').value), contiguity: $('zones-contiguity').value,
      },
    });
    zones.result = result;
    render(result);
    refresh();
  } catch (error) {
    zones.result = null;
    $('zones-list').innerHTML = '';
    $('zones-exports').hidden = true;
    $('zones-status').textContent = `Could not build zones: ${error.message}`;
  }
}

async function zoomTo(id) {
  const meta = await requestJson(`/api/bespoke/${encodeURIComponent(id)}`).catch(() => null);
  if (meta && meta.bbox) getMap().fitBounds([[meta.bbox[0], meta.bbox[1]], [meta.bbox[2], meta.bbox[3]]], { padding: 60, maxZoom: 16, duration: 0 });
}

// A zone's sheet: its box from /api/bespoke/ID (a zone is a saved bespoke area), its figures from the zones answer.
async function openZoneSheet(zone) {
  const meta = await requestJson(`/api/bespoke/${encodeURIComponent(zone.id)}`).catch(() => null);
  const result = zones.result;
  openSheet({ kind: 'zone', r: zone, result: { ...result, disclosure: result.disclosure, period: result.period || state.period }, bbox: meta && meta.bbox });
}

/// Hooks the builder into the map (called by main.js once the map is ready).
export function startZones(map) {
  map.on('styledata', refresh);
  $('zones-build').addEventListener('click', build);
  $('zones-within').addEventListener('focus', () => { if (bespoke.meta) fillWithin(); });
  $('zones-list').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-zone]');
    if (button) zoomTo(button.dataset.zone);
    const sheetButton = event.target.closest('button[data-zone-sheet]');
    const zone = sheetButton && zones.result && zones.result.zones.find((z) => z.id === sheetButton.dataset.zoneSheet);
    if (zone) openZoneSheet(zone);
  });
  const restore = state.zones;
  fillWithin().then(() => {
    if (!restore) return;
    $('zones-min').value = String(restore.min);
    $('zones-max').value = String(restore.max);
    $('zones-limit').value = String(restore.limit);
    $('zones-contiguity').value = restore.contiguity;
    const select = $('zones-within');
    if (![...select.options].some((o) => o.value === restore.within)) {
      // A bespoke area not shown (or not yet listed): offer it as the link names it.
      const option = document.createElement('option');
      option.value = restore.within;
      option.textContent = restore.within;
      select.append(option);
    }
    select.value = restore.within;
    build();
  }).finally(() => { zones.started = true; });
}
