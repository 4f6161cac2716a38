// The legend: the classes /api/breaks gives for the view (colours from style.js via map.js), how much of the map
// has data, the disclosure label and rule, and the table downloads for the view.

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { applyClasses, showStatus } from './map.js';
import { renderClassification } from './pickers.js';
import { LEVELS, currentDataset, currentMeasure, state, viewKey } from './state.js';
import { capitalise, disclosureLabel, formatCount, formatOf, formatPeriod, honestText, levelNoun, percentOf, periodCoverage, unitPhrase } from './text.js';

let breaksToken = 0;

/// Fetches the class breaks for the view, colours the map with them and renders the legend; the last call wins.
export async function refreshBreaks() {
  const token = ++breaksToken;
  $('legend').setAttribute('aria-busy', 'true');
  try {
    const breaks = await requestJson('/api/breaks', {
      params: {
        dataset: state.dataset,
        measure: state.measure,
        period: state.period,
        level: state.level,
        method: state.method,
        classes: state.classes,
        of: state.of,
      },
    });
    if (token !== breaksToken) return;
    state.breaks = breaks;
    state.error = null;
    showStatus(null);
    applyClasses();
    renderLegend();
    state.ready = true;
  } catch (error) {
    if (token !== breaksToken) return;
    state.error = error.message;
    showStatus(`Could not load the classes: ${error.message}`);
  } finally {
    if (token === breaksToken) $('legend').removeAttribute('aria-busy');
  }
}

function tableUrl(extra = {}) {
  const url = new URL('/api/table', window.location.href);
  const params = { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...extra };
  for (const [key, value] of Object.entries(params)) if (value) url.searchParams.set(key, value);
  return url;
}

function renderLegend() {
  const b = state.breaks;
  const measure = currentMeasure();
  const dataset = currentDataset();
  const disclosure = (b && b.disclosure) || (dataset && dataset.disclosure) || null;
  $('legend-title').textContent = measure ? measure.title : 'Legend';
  const levelName = (LEVELS.find((l) => l.id === state.level) || { label: state.level }).label;
  $('legend-subtitle').textContent = `${capitalise(unitPhrase(state.of, measure))}, ${formatPeriod(state.period)}, by ${levelName}`;

  const list = $('legend-classes');
  const classes = b ? b.classes : [];
  list.replaceChildren(
    ...classes.map((c, i) => {
      const li = document.createElement('li');
      li.dataset.classIndex = String(i);
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = state.colours[i];
      swatch.setAttribute('aria-hidden', 'true');
      const label = document.createElement('span');
      label.className = 'class-range';
      label.textContent = c.min === c.max ? formatOf(state.of, c.max) : `${i === 0 ? '' : 'over '}${formatOf(state.of, c.min)} to ${formatOf(state.of, c.max)}`;
      const count = document.createElement('span');
      count.className = 'class-count';
      count.textContent = `${formatCount(c.count)} ${c.count === 1 ? 'area' : 'areas'}`;
      li.append(swatch, label, count);
      if (c.narrower_than_rounding) {
        li.classList.add('narrow');
        const flag = document.createElement('span');
        flag.className = 'narrow-flag';
        flag.title = 'This class is narrower than the rounding error';
        flag.textContent = '⚠';
        flag.setAttribute('aria-label', 'narrower than the rounding error');
        label.append(' ', flag);
      }
      return li;
    }),
  );
  if (classes.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'No values to classify for this selection.';
    list.append(li);
  }

  const warning = $('legend-warning');
  warning.hidden = !(b && b.warning);
  warning.textContent = b && b.warning ? `Caution: ${b.warning}.` : '';

  renderLegendCoverage(dataset);
  if (disclosure) {
    const labelEl = $('legend-label');
    labelEl.textContent = disclosureLabel(disclosure, dataset);
    labelEl.dataset.classification = disclosure.classification;
    const by = disclosure.rounded_by === 'publisher' ? 'by the publisher' : 'by smallarea before release';
    $('legend-rounding').textContent = `Counts rounded to the nearest ${disclosure.rounding_base} ${by}` +
      (disclosure.suppression_threshold > 0 ? `; cells under ${disclosure.suppression_threshold} suppressed.` : '.');
    $('legend-rule').textContent = honestText(disclosure.rule, disclosure, dataset);
    renderClassification(disclosure);
  }
  $('download-csv').href = tableUrl({ format: 'csv' }).toString();
  // The server's dated file name (Content-Disposition), as for every other export.
  $('download-csv').setAttribute('download', '');
  $('download-xlsx').href = tableUrl({ format: 'xlsx' }).toString();
  $('download-xlsx').setAttribute('download', `${state.dataset}_${state.measure}_${state.period}_${state.level}.xlsx`);
}

// The legend says how much of the map has data: the period's coverage at the dataset's own level and, on a coarser
// level, how many of the areas drawn are partial sums (state.partial, from the table at that level).
function renderLegendCoverage(dataset) {
  const el = $('legend-coverage');
  const lines = [];
  const c = periodCoverage(dataset, state.period);
  if (c && c.areas_with_value < c.areas) {
    lines.push(`${formatCount(c.areas_with_value)} of ${formatCount(c.areas)} ${levelNoun(dataset.level)} have data for ${formatPeriod(state.period)} (${percentOf(c.share)}); the others are grey.`);
  }
  const p = state.partial;
  if (p && p.level === state.level && p.key === viewKey() && p.partial > 0) {
    lines.push(`${formatCount(p.partial)} of ${formatCount(p.rows)} ${levelNoun(state.level)} are partial: they sum only the ${levelNoun(dataset.level)} that have data.`);
  }
  el.hidden = lines.length === 0;
  el.textContent = lines.join(' ');
}

/// On a level coarser than the dataset's, counts the areas whose sum misses some cells (rows with complete: false).
/// Only the JSON table knows; an older server without `complete` leaves state.partial null and the legend silent.
export async function refreshPartial() {
  const dataset = currentDataset();
  const key = viewKey();
  state.partial = null;
  if (!dataset || state.level === dataset.level) return;
  try {
    const table = await requestJson('/api/table', { params: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level } });
    if (key !== viewKey()) return;
    const rows = table.rows || [];
    if (!rows.some((r) => typeof r.complete === 'boolean')) return;
    state.partial = { key, level: state.level, rows: rows.length, partial: rows.filter((r) => r.complete === false).length };
    renderLegendCoverage(dataset);
  } catch {
    // the legend simply says nothing about partial areas
  }
}
