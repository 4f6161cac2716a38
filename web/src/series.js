// The selected area's series (#17): every period of the mapped dataset and measure for that area, from
// GET /api/series, drawn as a small uPlot chart (vendored by build.mjs, no CDN) with the rounding bound as a band, and
// the same figures as a table for screen readers and for anyone who wants the numbers. Suppressed and missing periods
// are gaps in the line and say so in the table. Every figure is the protected one the server sent; the only thing
// derived here is the band of a rate, the count's bound over the rate's households (both published), so the chart
// never shows a figure finer than the table can.

import { requestJson } from './api.js';
import { $ } from './dom.js';
import { currentDataset, currentMeasure, state } from './state.js';
import { disclosureLabel, escapeHtml, formatBound, formatOf, formatRate, unitPhrase } from './text.js';
import uPlot from './vendor/uPlot.esm.js';

/// What the panel shows (the browser tests read it through main.js's test hook).
export const series = { result: null, area: null, points: [] };

let token = 0;
let chart = null;

// The mapped quantity of one period and its bound, or nulls for a gap.
function pointOf(p, of) {
  if (p.suppressed || p.missing) return { y: null, low: null, high: null };
  if (of === 'percent') {
    if (typeof p.percent !== 'number') return { y: null, low: null, high: null };
    return { y: p.percent, low: p.percent - 0.5, high: p.percent + 0.5, bound: 0.5 };
  }
  if (of === 'rate') {
    const rate = p.rate_per_100_households;
    if (typeof rate !== 'number') return { y: null, low: null, high: null };
    // The rate's bound: the count's bound scaled as the count is (rate/value = 100/rate households).
    let bound = 0;
    if (typeof p.uncertainty === 'number' && typeof p.value === 'number' && p.value > 0) bound = (p.uncertainty * rate) / p.value;
    else if (typeof p.uncertainty === 'number' && p.households > 0) bound = (100 * p.uncertainty) / p.households;
    return { y: rate, low: Math.max(0, rate - bound), high: rate + bound, bound };
  }
  if (typeof p.value !== 'number') return { y: null, low: null, high: null };
  const bound = typeof p.uncertainty === 'number' ? p.uncertainty : 0;
  return { y: p.value, low: Math.max(0, p.value - bound), high: p.value + bound, bound };
}

function destroyChart() {
  if (chart) chart.destroy();
  chart = null;
}

/// Clears the series (the panel closed or shows something without one).
export function clearSeries() {
  token += 1;
  destroyChart();
  series.result = null;
  series.area = null;
  series.points = [];
}

/// Loads and draws the series of `code` into the panel's #details-series (created by details.js); the last call wins.
export async function loadSeries(code) {
  const el = $('details-series');
  const dataset = currentDataset();
  if (!el || !dataset) return;
  const mine = ++token;
  destroyChart();
  el.innerHTML = '<h3 id="series-title">Over time</h3><p class="muted">Loading the series…</p>';
  try {
    const result = await requestJson('/api/series', { params: { dataset: state.dataset, measure: state.measure, area: code } });
    if (mine !== token) return;
    series.result = result;
    series.area = code;
    render(el, result);
  } catch (error) {
    if (mine !== token) return;
    series.result = null;
    el.innerHTML = `<h3 id="series-title">Over time</h3><p class="warning">No series for this area: ${escapeHtml(error.message)}</p>`;
  }
}

function render(el, result) {
  const of = state.of;
  const measure = currentMeasure();
  const periods = result.periods || [];
  const points = periods.map((p) => ({ period: p.period, name: p.period_name || p.period, ...pointOf(p, of), p }));
  series.points = points;
  const unit = unitPhrase(of, measure);
  const label = disclosureLabel(result.disclosure || {}, currentDataset());
  const shown = points.filter((x) => x.y !== null);
  const summary = shown.length
    ? `${unit} in ${shown.length} of ${points.length} periods, from ${formatOf(of, shown[0].y)} in ${shown[0].name} to ` +
      `${formatOf(of, shown[shown.length - 1].y)} in ${shown[shown.length - 1].name}; the shaded band is the rounding bound.`
    : `No period has a figure for this area (${points.length} periods).`;
  const rows = points.map((x) => {
    let figure;
    let note = '';
    if (x.p.suppressed) { figure = '–'; note = 'suppressed: too few to show'; } else if (x.y === null) { figure = '–'; note = 'no data'; } else {
      figure = formatOf(of, x.y);
      if (x.bound > 0) note = `± ${of === 'rate' ? formatRate(x.bound) : formatBound(x.bound)}${of === 'percent' ? ' points' : ''}`;
    }
    if (x.p.revision && x.p.revision.revised) note += `${note ? '; ' : ''}revised`;
    return `<tr data-period="${escapeHtml(x.period)}"><th scope="row">${escapeHtml(x.name)}</th><td class="num">${escapeHtml(figure)}</td><td>${escapeHtml(note)}</td></tr>`;
  }).join('');
  el.innerHTML = `
    <h3 id="series-title">Over time</h3>
    <div id="series-chart" class="series-chart" role="img" aria-label="${escapeHtml(`Chart: ${summary}`)}"></div>
    <p class="series-label muted">${escapeHtml(label)}</p>
    <details class="series-table-wrap">
      <summary>The series as a table</summary>
      <table id="series-table" class="series-table">
        <caption>${escapeHtml(`${measure ? measure.title : 'Figure'}: ${unit}, each period (${label})`)}</caption>
        <thead><tr><th scope="col">Period</th><th scope="col">Figure</th><th scope="col">Rounding bound, notes</th></tr></thead>
        <tbody>${rows}</tbody>
      </table>
    </details>`;
  if (shown.length === 0) return;
  const box = $('series-chart');
  const width = Math.max(240, Math.min(320, box.clientWidth || 300));
  const xs = points.map((_, i) => i);
  const data = [xs, points.map((x) => x.low), points.map((x) => x.high), points.map((x) => x.y)];
  const short = (i) => (points[i] ? points[i].name.replace(/^(\w{3})\w*\s/, '$1 ') : '');
  chart = new uPlot({
    width,
    height: 140,
    legend: { show: false },
    cursor: { show: true, points: { show: false } },
    scales: { x: { time: false, range: [-0.3, Math.max(0.3, points.length - 0.7)] } },
    axes: [
      { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? short(t) : '')), size: 30, stroke: '#3e4c59', grid: { show: false } },
      { size: 44, stroke: '#3e4c59', grid: { stroke: '#e4e7eb' }, values: (u, ticks) => ticks.map((t) => formatOf(of, t)) },
    ],
    series: [
      {},
      { label: 'low', stroke: 'transparent', points: { show: false } },
      { label: 'high', stroke: 'transparent', points: { show: false } },
      { label: unit, stroke: '#1d5fa8', width: 2, points: { show: true, size: 6, fill: '#1d5fa8' }, spanGaps: false },
    ],
    // The band between the bound's low and high series (uPlot fills between series 2 and 1).
    bands: [{ series: [2, 1], fill: 'rgba(29, 95, 168, 0.18)' }],
  }, data, box);
}
