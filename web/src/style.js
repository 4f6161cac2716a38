// How the choropleth is coloured: the server's class breaks (never computed here) in ColorBrewer YlGnBu, grey for no
// data, pale grey under a hatch for suppressed areas. engine/styles.cpp gives QGIS, SLD and MapLibre clients the
// same palette and fills.

// ColorBrewer YlGnBu (Cynthia Brewer, Penn State): sequential and colour-blind safe for 3 to 9 classes.
const PALETTES = {
  3: ['#edf8b1', '#7fcdbb', '#2c7fb8'],
  4: ['#ffffcc', '#a1dab4', '#41b6c4', '#225ea8'],
  5: ['#ffffcc', '#a1dab4', '#41b6c4', '#2c7fb8', '#253494'],
  6: ['#ffffcc', '#c7e9b4', '#7fcdbb', '#41b6c4', '#2c7fb8', '#253494'],
  7: ['#ffffcc', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#0c2c84'],
  8: ['#ffffd9', '#edf8b1', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#0c2c84'],
  9: ['#ffffd9', '#edf8b1', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#253494', '#081d58'],
};
const MISSING_FILL = '#c9ced6';
const SUPPRESSED_FILL = '#f3f4f6';

function paletteFor(n) {
  if (n <= 0) return [];
  if (n >= 3) return PALETTES[Math.min(n, 9)];
  return n === 1 ? [PALETTES[3][1]] : [PALETTES[3][0], PALETTES[3][2]];
}

// Breaks are inclusive upper bounds; a value within this of a break still belongs to the class below it.
const slack = (b) => Math.max(1e-9, Math.abs(b) * 1e-9);

/// The MapLibre fill-color expression for tile property `of` classed by `breaks` (an /api/breaks answer), and the
/// colour of each class.
export function fillColour(of, breaks) {
  const stops = breaks ? breaks.breaks : [];
  const colours = paletteFor(stops.length);
  let classed;
  if (stops.length <= 1) {
    classed = colours[0] || MISSING_FILL;
  } else {
    // `step` switches at >= stop, so each stop sits just above the break.
    classed = ['step', ['to-number', ['get', of]], colours[0]];
    for (let i = 0; i < stops.length - 1; i += 1) classed.push(stops[i] + slack(stops[i]), colours[i + 1]);
  }
  const expression = [
    'case',
    ['==', ['get', 'suppressed'], true], SUPPRESSED_FILL,
    ['==', ['get', 'missing'], true], MISSING_FILL,
    ['!', ['has', of]], MISSING_FILL,
    classed,
  ];
  return { expression, colours };
}

/// The fill-color expression for areas whose class index is feature-state `class` (set from /api/values when the
/// boundaries come from a PMTiles archive: tiles there carry no figures), in the palette fillColour gives breaks.
export function stateFillColour(breaks) {
  const stops = breaks ? breaks.breaks : [];
  const colours = paletteFor(stops.length);
  const classed = colours.length === 0 ? MISSING_FILL : ['match', ['number', ['feature-state', 'class'], -1]];
  if (colours.length > 0) {
    colours.forEach((c, i) => classed.push(i, c));
    classed.push(MISSING_FILL); // -1 (no classed figure) or no state yet
  }
  const expression = [
    'case',
    ['boolean', ['feature-state', 'suppressed'], false], SUPPRESSED_FILL,
    ['boolean', ['feature-state', 'missing'], false], MISSING_FILL,
    classed,
  ];
  return { expression, colours };
}

/// The class of value v under `breaks`, as the map colours it; -1 without breaks or a value.
export function classIndexOf(breaks, v) {
  if (!breaks || v === null || v === undefined) return -1;
  for (let i = 0; i < breaks.breaks.length; i += 1) if (v <= breaks.breaks[i] + slack(breaks.breaks[i])) return i;
  return breaks.breaks.length - 1;
}

/// The pixels of a size x size pattern tile (a MapLibre fill-pattern image) drawn by draw(ctx) on a canvas.
function patternImage(size, draw) {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  draw(ctx);
  return ctx.getImageData(0, 0, size, size);
}

/// A seamless 8 px diagonal hatch at device pixel ratio 2 (MapLibre image 'hatch'), drawn on a canvas.
export function hatchImage() {
  const size = 16;
  return patternImage(size, (ctx) => {
    ctx.strokeStyle = '#a3acb8';
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    for (const offset of [-size, 0, size]) {
      ctx.moveTo(offset, size);
      ctx.lineTo(offset + size, 0);
    }
    ctx.stroke();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Change maps (#17): a diverging palette centred on zero, ColorBrewer RdBu (colour-blind safe), blue for a fall and
// red for a rise, three classes each side; "no change within rounding" (the change is no larger than the two periods'
// rounding bounds together) is its own neutral class, grey under dots, whatever its sign.

export const CHANGE_COLOURS = ['#2166ac', '#67a9cf', '#d1e5f0', '#fddbc7', '#ef8a62', '#b2182b'];
export const NO_CHANGE_FILL = '#e5e5e5';

/// Diverging classes for changes `values` (of the areas whose change exceeds the rounding): three equal steps each
/// side of zero up to the largest absolute change, whole numbers for counts and percentages, hundredths for rates.
/// The cut points are chosen here (the server classes one period, not a difference); every change classed is one the
/// server sent, so nothing finer than the tiles is shown.
export function changeClasses(values, of) {
  const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (max === 0) return { cuts: [], max: 0 };
  const step = of === 'rate' ? 0.01 : 1;
  const nice = (x) => Math.max(step, Math.ceil(x / step - 1e-9) * step);
  const t1 = Number(nice(max / 3).toFixed(2));
  const t2 = Number(Math.max(t1 + step, nice((2 * max) / 3)).toFixed(2));
  return { cuts: [-t2, -t1, 0, t1, t2], max };
}

/// The class (0..5) of change v under cuts [-t2, -t1, 0, t1, t2], as the map colours it.
export function changeClassOf(cuts, v) {
  if (!cuts || cuts.length !== 5 || v === null || v === undefined) return -1;
  if (v < cuts[0]) return 0;
  if (v < cuts[1]) return 1;
  if (v < 0) return 2;
  if (v <= cuts[3]) return 3;
  if (v <= cuts[4]) return 4;
  return 5;
}

/// The fill expression of a change map on tile property `prop` with `breaks` (legend.js's change classes).
export function changeFillColour(prop, breaks) {
  const cuts = breaks.cuts || [];
  const x = ['to-number', ['get', prop]];
  const classed = cuts.length === 5
    ? ['case', ['<', x, cuts[0]], CHANGE_COLOURS[0], ['<', x, cuts[1]], CHANGE_COLOURS[1], ['<', x, 0], CHANGE_COLOURS[2],
      ['<=', x, cuts[3]], CHANGE_COLOURS[3], ['<=', x, cuts[4]], CHANGE_COLOURS[4], CHANGE_COLOURS[5]]
    : NO_CHANGE_FILL;
  const expression = [
    'case',
    ['==', ['get', 'suppressed'], true], SUPPRESSED_FILL,
    ['!', ['has', prop]], MISSING_FILL,
    ['==', ['get', 'no_change_within_rounding'], true], NO_CHANGE_FILL,
    classed,
  ];
  return { expression, colours: CHANGE_COLOURS };
}

/// Grey dots (MapLibre image 'dots') for "no change within rounding", at device pixel ratio 2.
export function dotsImage() {
  return patternImage(12, (ctx) => {
    ctx.fillStyle = '#6b7280';
    for (const [x, y] of [[3, 3], [9, 9]]) {
      ctx.beginPath();
      ctx.arc(x, y, 1.3, 0, Math.PI * 2);
      ctx.fill();
    }
  });
}
