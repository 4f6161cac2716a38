// The selected area: its outline on the map and the details panel with the figures /api/table gives for it (value,
// rate and its basis, households, partial and rounding notes, parent areas, the disclosure label and rule).

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { setSelectionFilter } from './map.js';
import { CHANGE_FIELD, LEVEL_SHORT, catalog, coarserLevel, currentDataset, currentMeasure, state, vintageParams } from './state.js';
import { clearSeries, loadSeries } from './series.js';
import { CHANGE_COLOURS, NO_CHANGE_FILL, changeClassOf, classIndexOf } from './style.js';
import {
  capitalise, disclosureLabel, escapeHtml, formatBound, formatOf, formatPeriod, formatRate, honestText, householdsText, levelNoun, partialText,
  roundingText, signed, unitPhrase,
} from './text.js';
import { writeUrl } from './url_state.js';

const nf0 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

let detailsToken = 0;

export function select(code, { scroll = false } = {}) {
  state.area = code;
  setSelectionFilter();
  loadDetails({ scroll });
  writeUrl();
}

export function clearSelection({ write }) {
  state.area = null;
  state.row = null;
  detailsToken += 1;
  setSelectionFilter();
  clearSeries();
  $('details').hidden = true;
  if (write) writeUrl();
}

/// Loads and shows state.area's row for the view; the last call wins.
export async function loadDetails({ scroll = false } = {}) {
  const code = state.area;
  if (!code) return;
  const token = ++detailsToken;
  const panel = $('details');
  panel.hidden = false;
  panel.setAttribute('aria-busy', 'true');
  $('details-title').textContent = catalog.areaNames.get(code) || code;
  try {
    const table = await requestJson('/api/table', {
      params: { dataset: state.dataset, measure: state.measure, period: state.period, level: state.level, ...vintageParams(), within: code, compare: state.compare },
    });
    if (token !== detailsToken) return;
    const row = (table.rows || []).find((r) => r.code === code) || null;
    state.row = row;
    renderDetails(code, row, table);
    // The series of a standard area (a dataset with more than one period): the chart and its table below the facts.
    const dataset = currentDataset();
    if (row && dataset && (dataset.periods || []).length > 1) loadSeries(code);
    else clearSeries();
    if (scroll && window.innerWidth > 760) panel.scrollTop = 0;
  } catch (error) {
    if (token !== detailsToken) return;
    state.row = null;
    $('details-body').innerHTML = `<p class="warning">Could not load ${escapeHtml(code)}: ${escapeHtml(error.message)}</p>`;
  } finally {
    if (token === detailsToken) panel.removeAttribute('aria-busy');
  }
}

function parentCode(row, level) {
  const parent = row && row.parents ? row.parents[level] : null;
  return (parent && (typeof parent === 'string' ? parent : parent.code)) || '';
}

function renderDetails(code, row, table) {
  const body = $('details-body');
  if (!row) {
    $('details-title').textContent = code;
    body.innerHTML = `<p>No ${escapeHtml(LEVEL_SHORT[state.level] || state.level)} with code ${escapeHtml(code)} in this table.</p>`;
    return;
  }
  $('details-title').textContent = row.name || code;
  const measure = currentMeasure();
  const disclosure = table.disclosure || {};
  const mapped = state.of === 'rate' ? row.rate_per_100_households : state.of === 'percent' ? row.percent : row.value;
  const status = row.suppressed ? 'Suppressed: too few to show' : row.missing ? 'No data for this area' : null;
  const change = state.compare && row.change ? row.change : null;
  const changed = change && change.comparable ? change[CHANGE_FIELD[state.of] || 'value'] : null;
  let swatch;
  if (state.compare) {
    // A change map colours the change: the swatch is the change's class (or the neutral "within rounding" one).
    const colour = !change || !change.comparable || typeof changed !== 'number' ? null
      : change.within_rounding ? NO_CHANGE_FILL : CHANGE_COLOURS[changeClassOf(state.breaks && state.breaks.cuts, changed)];
    swatch = colour ? `<span class="swatch" style="background:${colour}" aria-hidden="true"></span>` : '';
  } else {
    const index = status ? -1 : classIndexOf(state.breaks, mapped);
    swatch = index >= 0 ? `<span class="swatch" style="background:${state.colours[index]}" aria-hidden="true"></span>` : '';
  }

  const rows = [];
  const add = (label, html, field) => rows.push(`<dt>${escapeHtml(label)}</dt><dd${field ? ` data-field="${field}"` : ''}>${html}</dd>`);
  const dataset = currentDataset();
  const cellLevel = dataset ? dataset.level : state.level;
  const partial = partialText(row, cellLevel);
  const partialHtml = partial ? ` <span class="partial" data-field="partial">${escapeHtml(partial)}</span>` : '';
  add('Code', `<code>${escapeHtml(row.code)}</code>`, 'code');
  add('Geography', escapeHtml(LEVEL_SHORT[row.level] || row.level));
  if (measure && measure.kind === 'percent_only') {
    add(measure.title, `${row.percent === null || row.percent === undefined ? '–' : `${nf0.format(row.percent)}%`}${partialHtml}`, 'percent');
  } else {
    const v = row.value === null || row.value === undefined ? '–' : nf0.format(row.value);
    const u = row.uncertainty ? ` <span class="muted">± ${nf1.format(row.uncertainty)} from rounding</span>` : '';
    add(measure ? measure.title : 'Count', `<span class="num">${v}</span>${u}${partialHtml}`, 'value');
    if (measure && measure.denominator) {
      const rate = row.rate_per_100_households === null || row.rate_per_100_households === undefined ? '–' : nf2.format(row.rate_per_100_households);
      // The rate uses only the cells that have both a value and a household count (rule 8); say so when they differ.
      // rate_households: the households of the cells with a value (the rate's base), when it differs from the total.
      let basis = '';
      if (typeof row.rate_households === 'number' && row.rate_households !== row.households) {
        basis = `<br><span class="muted" data-field="rate-basis">Over the ${nf0.format(row.rate_households)} households of the ${escapeHtml(levelNoun(cellLevel))} with data.</span>`;
      } else if (table.rate_basis && typeof row.rate_households !== 'number' && (row.complete === false || row.households_complete === false)) {
        basis = `<br><span class="muted" data-field="rate-basis">${escapeHtml(capitalise(String(table.rate_basis).replace(/\.\s*$/, '')))}.</span>`;
      }
      add('Per 100 households', `<span class="num">${rate}</span>${basis}`, 'rate');
    }
  }
  if (state.compare) {
    // The change since the compared period, with its bound (the sum of both periods' rounding bounds).
    let html = 'not compared: no figure for every cell in both periods';
    if (change && change.comparable && typeof changed === 'number') {
      const bound = state.of === 'rate' ? change.rate_uncertainty : change.uncertainty;
      const boundText = typeof bound === 'number' ? ` ± ${state.of === 'rate' ? formatRate(bound) : formatBound(bound)}` : '';
      html = `<span class="num">${escapeHtml(signed(state.of, changed))}</span><span class="muted">${escapeHtml(boundText)}</span>` +
        (change.within_rounding ? ' <strong class="partial" data-field="no-change">no change within rounding</strong>' : '');
    }
    add(`Change since ${formatPeriod(state.compare)}`, html, 'change');
  }
  const households = householdsText(row, cellLevel);
  add('Households', `<span class="num">${row.households === null || row.households === undefined ? 'not known' : nf0.format(row.households)}</span>` +
    (households ? ` <span class="partial" data-field="households-partial">${escapeHtml(households)}</span>` : ''), 'households');
  // Only for a sum of several cells: a single area's own row says nothing new here.
  if (row.cells > 1 || (row.cells && row.level !== cellLevel)) {
    const withValue = typeof row.cells_with_value === 'number' ? `${nf0.format(row.cells_with_value)} of ${nf0.format(row.cells)} with data` : nf0.format(row.cells);
    add(`${capitalise(levelNoun(cellLevel))} summed`, withValue, 'cells');
  }
  const parents = row.parents || {};
  for (const level of ['lsoa', 'msoa', 'lad']) {
    const parent = parents[level];
    if (!parent) continue;
    const parentId = typeof parent === 'string' ? parent : parent.code;
    const name = (typeof parent === 'object' && parent.name) || catalog.areaNames.get(parentId);
    add(LEVEL_SHORT[level], name ? `${escapeHtml(name)} <code>${escapeHtml(parentId)}</code>` : `<code>${escapeHtml(parentId)}</code>`, `parent-${level}`);
  }

  const rounding = roundingText(row, table.suggestion);
  const coarser = rounding ? coarserLevel() : null;
  const roundingHtml = rounding
    ? `<p class="warning" data-field="rounding-note" role="note">${escapeHtml(rounding)}${coarser
      ? ` <button type="button" class="link-button" data-level="${escapeHtml(coarser.id)}" data-parent="${escapeHtml(parentCode(row, coarser.id))}">Show by ${escapeHtml(coarser.short)}</button>` : ''}</p>`
    : '';

  body.innerHTML = `
    <div class="headline">
      ${swatch}
      <div>
        <div class="headline-value" data-field="mapped">${status ? escapeHtml(status) : escapeHtml(formatOf(state.of, mapped))}</div>
        <div class="headline-unit">${status ? `In ${escapeHtml(formatPeriod(table.period || state.period))}` : `${escapeHtml(unitPhrase(state.of, measure))}, ${escapeHtml(formatPeriod(table.period || state.period))}`}${partial ? ' <strong class="partial-flag">(partial)</strong>' : ''}</div>
      </div>
    </div>
    <dl class="facts">${rows.join('')}</dl>
    ${roundingHtml}
    <p class="disclosure-label" data-classification="${escapeHtml(disclosure.classification || '')}">${escapeHtml(disclosureLabel(disclosure, dataset))}</p>
    <p class="disclosure-rule">${escapeHtml(honestText(disclosure.rule || '', disclosure, dataset))}</p>
    <section id="details-series" class="details-series" aria-labelledby="series-title"></section>`;
}

// Show the map at `level` (through the level picker, as a user would) and, when known, select the area there that
// contains the one shown now.
function switchLevel(level, parent) {
  $('level').value = level;
  $('level').dispatchEvent(new Event('change'));
  if (parent) select(parent);
  $('level').focus(); // the button is re-rendered away; keep the keyboard user on the picker it changed
}

/// The panel's close button and its "Show by <coarser level>" button.
export function bindDetails() {
  $('details-close').addEventListener('click', () => clearSelection({ write: true }));
  // Escape closes the panel from anywhere inside it (keyboard users need not find the close button).
  $('details').addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    clearSelection({ write: true });
    $('map').querySelector('canvas')?.focus();
  });
  $('details-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-level]');
    if (button) switchLevel(button.dataset.level, button.dataset.parent);
  });
}
