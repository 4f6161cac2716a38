// The target-area finder (public API only): "Find target areas" ranks areas in a household band (GET /api/targets),
// highlights and lists them, zooms to one on click, and links the CSV and XLSX. Each target shows its interval
// (value ± rounding bound, rate range) and its band: areas whose rate intervals overlap share a band and are marked
// "tied within rounding", so the list does not claim a finer order than the rounding allows.

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { getMap } from './map.js';
import { refreshOverlay, setTargetCodes, showTargetsOutline } from './overlay.js';
import { openSheet } from './sheet.js';
import { currentDataset, state } from './state.js';
import { writeUrl } from './url_state.js';
import { capitalise, escapeHtml, formatBound, formatCount, formatRate, honestText } from './text.js';

let rows = []; // the listed targets (zoomToTarget finds their bbox)
let lastResult = null; // the /api/targets answer listed (the outreach sheet reads its disclosure)

function targetParams() {
  return { dataset: state.dataset, measure: state.measure, period: state.period, within: $('targets-within').value,
    min_households: $('targets-min').value, max_households: $('targets-max').value, limit: $('targets-limit').value };
}

async function findTargets() {
  const list = $('targets-list');
  // The search goes in the URL, so a shared link lists the same targets.
  state.targets = { min: Number($('targets-min').value), max: Number($('targets-max').value), limit: Number($('targets-limit').value),
    within: $('targets-within').value || null };
  writeUrl();
  $('targets-status').textContent = 'Searching…';
  try {
    const result = await requestJson('/api/targets', { params: targetParams() });
    rows = result.rows;
    lastResult = result;
    setTargetCodes(rows.map((t) => t.code));
    list.innerHTML = renderTargets(result);
    const dataset = currentDataset();
    const noun = result.patches ? 'Output Areas to walk' : 'areas';
    $('targets-status').textContent = `${result.rows.length} of ${result.eligible} ${noun} with ${result.min_households}–${result.max_households} households, ranked by ${result.ranked_by}.` +
      (result.note ? ` ${honestText(result.note, result.disclosure, dataset)}.` : '');
    renderBands(result);
    const csv = new URL('/api/targets', window.location.href);
    for (const [k, v] of Object.entries({ ...targetParams(), format: 'csv' })) if (v) csv.searchParams.set(k, v);
    $('targets-csv').href = csv.toString();
    $('targets-csv').hidden = result.rows.length === 0;
    const xlsx = new URL(csv);
    xlsx.searchParams.set('format', 'xlsx');
    $('targets-xlsx').href = xlsx.toString();
    $('targets-xlsx').hidden = result.rows.length === 0;
    showTargetsOutline(result.outline);
    refreshOverlay();
  } catch (error) {
    rows = [];
    setTargetCodes([]);
    list.innerHTML = '';
    $('targets-status').textContent = `Could not search: ${error.message}`;
  }
}

// Band sizes: how many rows share each band (rows whose rate intervals overlap cannot be told apart by the rounding).
function bandSizes(targets) {
  const sizes = new Map();
  for (const r of targets) if (typeof r.band === 'number') sizes.set(r.band, (sizes.get(r.band) || 0) + 1);
  return sizes;
}

function targetInterval(r, percent) {
  const parts = [];
  const rate = r.rate ?? r.percent;
  const unit = percent ? '%' : ' per 100 households';
  if (rate !== null && rate !== undefined) {
    const range = typeof r.rate_low === 'number' && typeof r.rate_high === 'number'
      ? ` <span class="range">(${percent ? r.rate_low : formatRate(r.rate_low)}–${percent ? r.rate_high : formatRate(r.rate_high)})</span>` : '';
    parts.push(`<span class="rate">${percent ? rate : formatRate(rate)}${unit}</span>${range}`);
  }
  if (typeof r.value === 'number') {
    const bound = typeof r.uncertainty === 'number' && r.uncertainty > 0 ? ` ± ${formatBound(r.uncertainty)}` : '';
    // value ± bound already is the interval [value_low, value_high]; the rate range is the one that sets the bands.
    parts.push(`<span class="value">${formatCount(r.value)}${bound}</span>`);
  }
  return parts.join('; ');
}

// Each row's list number is its band (shared by ties), not a clean 1..N rank the rounding cannot support.
function renderTargets(result) {
  const percent = result.rate_unit === 'percent';
  const sizes = bandSizes(result.rows);
  return result.rows.map((r) => {
    const banded = typeof r.band === 'number';
    const tied = banded && sizes.get(r.band) > 1;
    const classes = ['target', tied ? 'tied' : '', r.tied_with_next ? 'tied-next' : ''].filter(Boolean).join(' ');
    const tie = tied
      ? ` <span class="tie" title="Their rate intervals overlap: the rounding cannot tell these areas apart">tied within rounding (band ${r.band}, ${sizes.get(r.band)} areas)</span>`
      : '';
    const rounding = r.rounding_dominates ? ' <span class="tie">rounding dominates</span>' : '';
    // Where it is: the names of the areas it lies in, and an OS grid reference for a paper map or the OS app.
    const names = [];
    for (const level of ['lsoa', 'msoa', 'lad']) {
      const place = r.places && r.places[level];
      if (place && place.name && !names.includes(place.name)) names.push(place.name);
    }
    const where = names.length || r.grid_ref
      ? ` <span class="target-place">${escapeHtml(names.join(', '))}${r.grid_ref ? `${names.length ? '; ' : ''}grid ref <span class="grid-ref">${escapeHtml(r.grid_ref)}</span>` : ''}</span>`
      : '';
    // A patch of LSOA-only data carries its LSOA's figure: say so, so nobody reads it as the patch's own.
    const whole = r.figure_for
      ? ` <span class="figure-for">figure for the whole ${escapeHtml(r.figure_for.level.toUpperCase())} ${escapeHtml(r.figure_for.name || r.figure_for.code)}` +
        `${typeof r.figure_for.households === 'number' ? ` (${formatCount(r.figure_for.households)} households)` : ''}, not apportioned</span>`
      : '';
    return `<li value="${banded ? r.band : r.rank}" class="${classes}" data-band="${banded ? r.band : ''}" data-rank="${r.rank}">` +
      `<button type="button" data-code="${escapeHtml(r.code)}">${escapeHtml(r.name)}</button>` +
      ` <span class="target-figures">${formatCount(r.households)} households, ${targetInterval(r, percent)}</span>${whole}${tie}${rounding}${where}` +
      ` <button type="button" class="link-button sheet-button" data-sheet="${escapeHtml(r.code)}" aria-label="Outreach sheet for ${escapeHtml(r.name)}">Outreach sheet</button></li>`;
  }).join('');
}

function renderBands(result) {
  const el = $('targets-bands');
  if (typeof result.bands !== 'number') {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const n = result.rows.length;
  const text = [`${result.bands} distinct ${result.bands === 1 ? 'band' : 'bands'} among these ${n} ${n === 1 ? 'area' : 'areas'}` +
    (result.bands < n && !result.ties_note ? '; areas in one band are tied within rounding and numbered alike.' : '.')];
  if (result.ties_note) text.push(`${capitalise(honestText(result.ties_note, result.disclosure, currentDataset()).trim().replace(/\.?$/, '.'))}`);
  el.textContent = text.join(' ');
  el.hidden = false;
}

function zoomToTarget(code) {
  const row = rows.find((t) => t.code === code);
  if (!row || !row.bbox) return;
  getMap().fitBounds([[row.bbox[0], row.bbox[1]], [row.bbox[2], row.bbox[3]]], { padding: 80, maxZoom: 15, duration: 0 });
}

/// The finder's buttons (called by main.js once the map is ready).
export async function startTargets() {
  $('targets-find').addEventListener('click', findTargets);
  // "Within": a district (GET /api/targets within=CODE), as the API allows.
  const districts = (await requestJson('/api/areas', { params: { level: 'lad' } }).catch(() => ({ areas: [] }))).areas || [];
  for (const a of districts) {
    const option = document.createElement('option');
    option.value = a.code;
    option.textContent = `${a.name} (${a.code})`;
    $('targets-within').append(option);
  }
  if (state.targets) {
    $('targets-min').value = String(state.targets.min);
    $('targets-max').value = String(state.targets.max);
    $('targets-limit').value = String(state.targets.limit);
    if (state.targets.within && districts.some((a) => a.code === state.targets.within)) $('targets-within').value = state.targets.within;
    findTargets();
  }
  $('targets-list').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-code]');
    if (button) zoomToTarget(button.dataset.code);
    const sheetButton = event.target.closest('button[data-sheet]');
    const row = sheetButton && rows.find((t) => t.code === sheetButton.dataset.sheet);
    if (row) openSheet({ kind: 'target', r: row, result: lastResult });
  });
}
