// Bespoke areas on the map (public API only):
//  - click selects an area, shift-click adds or removes one; "Save as bespoke area" POSTs the selection and puts
//    bespoke=ID in the URL hash, so the link opens with the area outlined and selected and its totals shown;
//  - the card shows the saved area's totals for the mapped dataset/measure/period (again after each change of view),
//    or the server's reason when it refuses them, and offers its files (/api/export/bespoke).

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { getMap } from './map.js';
import { refreshOverlay, setSelectedCodes, showBespokeOutline } from './overlay.js';
import { currentDataset, onMappedViewChange, state } from './state.js';
import {
  bespokeExportLinks, disclosureLabel, escapeHtml, formatBound, formatCount, honestText, householdsText, levelNoun, partialText, roundingText,
} from './text.js';
import { writeUrl } from './url_state.js';

/// The bespoke card's state (the browser tests read it through main.js's test hook).
export const bespoke = {
  codes: [], // the current multi-selection (area codes at the map's level)
  id: null, // the saved bespoke area shown, if any
  meta: null, // its /api/bespoke/{id} answer
  outline: null, // its outline geometry
  totals: null, // {row, table, measure} or {error, code, status}
  started: false,
};

let totalsToken = 0;

function setUrlBespoke(id) {
  state.bespoke = id;
  writeUrl();
}

// ---------------------------------------------------------------------------------------------------------------
// Selection and saving

function renderSelection() {
  const count = bespoke.codes.length;
  $('bespoke-count').textContent = count === 0 ? 'No areas selected. Click an area; shift-click adds more.'
    : `${count} area${count === 1 ? '' : 's'} selected`;
  $('bespoke-save').disabled = count === 0;
  setSelectedCodes(bespoke.codes);
  refreshOverlay();
}

function onAreaClick(event) {
  const feature = event.features && event.features[0];
  if (!feature || !feature.properties.code) return;
  const code = feature.properties.code;
  if (event.originalEvent && event.originalEvent.shiftKey) {
    bespoke.codes = bespoke.codes.includes(code) ? bespoke.codes.filter((c) => c !== code) : [...bespoke.codes, code];
  } else {
    bespoke.codes = [code];
  }
  renderSelection();
}

async function save() {
  const name = $('bespoke-name').value.trim() || 'Bespoke area';
  $('bespoke-status').textContent = 'Saving…';
  try {
    const created = await requestJson('/api/bespoke', { method: 'POST', body: { name, level: state.level, codes: bespoke.codes } });
    setUrlBespoke(created.id);
    await show(created.id, { fit: false });
    $('bespoke-status').textContent = `Saved as ${created.id}. Share this page's address to open it.`;
  } catch (error) {
    $('bespoke-status').textContent = `Could not save: ${error.message}`;
  }
}

// Opens a saved bespoke area: outline, members selected, totals for the mapped dataset.
async function show(id, { fit }) {
  const [meta, outline] = await Promise.all([
    requestJson(`/api/bespoke/${encodeURIComponent(id)}`),
    requestJson(`/api/bespoke/${encodeURIComponent(id)}.geojson`),
  ]);
  bespoke.id = id;
  bespoke.meta = meta;
  bespoke.codes = meta.members.map((m) => m.code);
  renderSelection();
  bespoke.outline = outline.geometry;
  showBespokeOutline(outline.geometry);
  if (fit && meta.bbox) getMap().fitBounds([[meta.bbox[0], meta.bbox[1]], [meta.bbox[2], meta.bbox[3]]], { padding: 40, duration: 0 });
  await loadTotals();
}

// The shown bespoke area's totals for the mapped dataset/measure/period; the last call wins.
async function loadTotals() {
  const meta = bespoke.meta;
  if (!meta) return;
  const token = ++totalsToken;
  let totals = null;
  try {
    const table = await requestJson('/api/table', { params: { dataset: state.dataset, measure: state.measure, period: state.period, level: 'bespoke', ids: meta.id } });
    totals = { row: table.rows[0], table, measure: table.measure };
  } catch (error) {
    // 422 PercentageOnly: the server will not give this measure for a user-drawn area (the answer could be differenced
    // against others to recover counts). Its message says why; it is shown as the answer, not as a broken value.
    totals = { error: error.message, code: error.code || null, status: error.status || null };
  }
  if (token !== totalsToken) return;
  bespoke.totals = totals;
  renderTotals(meta, totals);
}

function renderTotals(meta, totals) {
  const dataset = currentDataset();
  const memberLevel = meta.level;
  const lines = [`<strong>${escapeHtml(meta.name)}</strong> (${escapeHtml(meta.id)})`,
    `${meta.member_count} ${escapeHtml(levelNoun(memberLevel, meta.member_count))}, <span id="bespoke-households">${
      meta.households === null || meta.households === undefined ? 'unknown' : formatCount(meta.households)}</span> households` +
      (meta.households_complete === false && meta.households !== null
        ? ` <span class="partial">(known for ${meta.members_with_households} of ${meta.member_count})</span>` : '')];
  const notes = [];
  if (totals.row) {
    const r = totals.row;
    const t = totals.table;
    let v;
    if (t.measure.kind === 'percent_only' || r.percent !== undefined) {
      v = `${r.percent ?? '–'}%`;
      if (r.suppressed) v += ' (suppressed: too few to show)';
    } else {
      v = `${r.value ?? '–'}${r.rate_per_100_households != null ? ` (${r.rate_per_100_households} per 100 households)` : ''}`;
    }
    const bound = typeof r.uncertainty === 'number' && r.uncertainty > 0 ? ` <span class="muted">± ${formatBound(r.uncertainty)} from rounding</span>` : '';
    lines.push(`${escapeHtml(t.measure.title)}: <span id="bespoke-value">${escapeHtml(v)}</span>${bound}`);
    const partial = partialText(r, memberLevel);
    if (partial) notes.push(`<span class="partial" id="bespoke-partial">${escapeHtml(partial)}</span>`);
    const households = householdsText(r, memberLevel);
    if (households) notes.push(`<span class="partial">${escapeHtml(households)}</span>`);
    const rounding = roundingText(r, t.suggestion);
    if (rounding) notes.push(`<span class="warning-inline" id="bespoke-rounding">${escapeHtml(rounding)}</span>`);
    lines.push(...notes);
    const d = t.disclosure || {};
    lines.push(`<small>${escapeHtml(disclosureLabel(d, dataset))}: ${escapeHtml(honestText(d.rule || '', d, dataset))}</small>`);
  } else if (totals.code === 'PercentageOnly' || totals.status === 422) {
    lines.push(`<span class="refusal" id="bespoke-refused" role="note">Not shown for a bespoke area: ${escapeHtml(totals.error)}</span>`);
  } else if (totals.error) {
    lines.push(`<small>${escapeHtml(totals.error)}</small>`);
  }
  lines.push(exportLinks(meta, totals));
  $('bespoke-totals').innerHTML = lines.join('<br>');
  $('bespoke-totals').hidden = false;
}

// The same files /api/export/bespoke.{ext} gives (what the API does, the map offers): with the mapped figures when
// the server gave them, else the outline alone (GeoJSON, GeoPackage).
function exportLinks(meta, totals) {
  const withValues = Boolean(totals.row);
  const links = bespokeExportLinks([meta.id], state, withValues);
  return `<span id="bespoke-exports">Download ${withValues ? 'with these figures' : 'the outline'}: ${links}</span>`;
}

/// Hooks the card into the map (called by main.js once the map is ready) and opens `initialId`, the bespoke area the
/// page's URL named, if any (zooming to it when `fit`: the link gave no map view).
export function startBespoke(map, initialId, { fit = false } = {}) {
  refreshOverlay();
  // Shift-drag box zoom would swallow shift-clicks, which add areas to the selection here.
  map.boxZoom.disable();
  map.on('click', 'areas-fill', onAreaClick);
  map.on('styledata', () => refreshOverlay());
  $('bespoke-save').addEventListener('click', save);
  $('bespoke-clear').addEventListener('click', () => {
    bespoke.codes = [];
    bespoke.id = null;
    bespoke.meta = null; // else the next view change reloads the cleared area's totals
    setUrlBespoke(null);
    showBespokeOutline(null);
    $('bespoke-totals').hidden = true;
    renderSelection();
  });
  onMappedViewChange(() => { if (bespoke.meta) loadTotals(); });
  renderSelection();
  if (initialId) {
    state.bespoke = initialId;
    show(initialId, { fit }).catch((error) => { $('bespoke-status').textContent = `Could not open bespoke area ${initialId}: ${error.message}`; });
  }
  bespoke.started = true;
}
