// Accessibility audit shared by the browser tests: axe-core through @axe-core/playwright (npm, bundled with the
// web map's dev dependencies; no CDN), WCAG 2.2 A/AA rules on the live page.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/// The AxeBuilder class, from web/'s node_modules; null when it is not installed.
export function loadAxe(web) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(web, '..', 'package.json'), path.join(here, '..', '..', 'web', 'package.json')]) {
    try {
      const m = createRequire(candidate)('@axe-core/playwright');
      return m.AxeBuilder || m.default;
    } catch {
      // try the next one
    }
  }
  return null;
}

/// UK public-sector bodies must meet WCAG 2.2 AA: throws on any serious or critical violation. The WebGL canvas is
/// left out (its text alternative is the table, the area panel and the target list, which are audited).
export async function auditAccessibility(AxeBuilder, page, where) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .exclude('.maplibregl-canvas')
    .analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    throw new Error(`${where}: ${bad.map((v) => `${v.id} [${v.impact}] x${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`).join('; ')}`);
  }
  return `${results.passes.length} rules pass, ${results.violations.length} minor/moderate findings`;
}
