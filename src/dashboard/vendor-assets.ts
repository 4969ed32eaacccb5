import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type Express } from 'express';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/**
 * Browser libraries served from node_modules as they were installed (no build step, no CDN: the
 * dashboard works offline and its scripts are the audited package files).
 */
export const VENDOR_FILES = {
  uplot: { dir: dirname(require.resolve('uplot/dist/uPlot.iife.min.js')), files: ['uPlot.iife.min.js', 'uPlot.min.css'] },
  marked: { dir: join(packageDir('marked'), 'lib'), files: ['marked.umd.js'] },
  // dompurify exports no package.json: its main file sits in dist/.
  dompurify: { dir: dirname(require.resolve('dompurify')), files: ['purify.min.js'] },
  'lightweight-charts': { dir: join(packageDir('lightweight-charts'), 'dist'), files: ['lightweight-charts.standalone.production.js'] },
} as const;

export function mountVendorAssets(app: Express): void {
  for (const [name, { dir, files }] of Object.entries(VENDOR_FILES)) {
    const allowed = new Set<string>(files);
    // Only the named files: the rest of the package (sources, maps, typings) stays private.
    app.use(`/assets/${name}`, (req, res, next) => (allowed.has(req.path.slice(1)) ? next() : res.status(404).end()), express.static(dir, { maxAge: '1d' }));
  }
}
