/** Server-rendered shells; the data comes from the JSON API and live events (public/app.js). */

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Scripts every page loads, in order: libraries, shared pieces, then one file per page. */
const SCRIPTS = ['/assets/uplot/uPlot.iife.min.js', '/assets/core.js', '/assets/overview.js', '/assets/jobs-explorer.js', '/assets/job-page.js', '/assets/desk-panel.js', '/assets/ops.js'];
/** The job page also renders markdown and draws a candlestick chart. */
const JOB_SCRIPTS = ['/assets/marked/marked.umd.js', '/assets/dompurify/purify.min.js', '/assets/lightweight-charts/lightweight-charts.standalone.production.js', '/assets/markdown.js', '/assets/job-chart.js'];

export type PageView = 'overview' | 'jobs' | 'job' | 'replays' | 'compare';

/** The replays page keeps its own script (public/replays.js) and two sections of its own. */
const REPLAYS_MAIN = `<section class="wide"><h2>Replays <small>past sessions through the live queues, each profile in its own ledger</small></h2><div id="replays" class="body muted">loading…</div></section>
  <section class="wide" id="detail" hidden></section>`;

/** The head-to-head page: two agents' live decisions side by side (public/compare.js). */
const COMPARE_MAIN = `<section class="wide"><h2>Head to head <small>two agents on the decisions both made: same ticker, same session's price, same data source</small></h2>
  <form id="compare-form" class="inline-form"><label>Agent <input name="a" list="agents" required pattern="[a-z0-9_-]+"></label> <label>against <input name="b" list="agents" required pattern="[a-z0-9_-]+"></label>
  <label>Ticker <input name="ticker" size="8"></label> <label>From <input name="from" type="date"></label> <label>To <input name="to" type="date"></label> <button type="submit">Compare</button><datalist id="agents"></datalist></form>
  <div id="h2h" class="body muted">Pick two agents that analyse the same tickers.</div></section>`;

function scriptsOf(view: PageView): string[] {
  if (view === 'replays') return ['/assets/uplot/uPlot.iife.min.js', '/assets/replays.js'];
  if (view === 'compare') return ['/assets/uplot/uPlot.iife.min.js', '/assets/compare.js'];
  return [...SCRIPTS, ...(view === 'job' ? JOB_SCRIPTS : []), '/assets/app.js'];
}

/** Every page's shell: one header and nav, the banners, and the view's scripts. */
export function shellPage(view: PageView, opts: { readOnly: boolean; auth: boolean }): string {
  // The replays and compare pages draw from the API alone: no market chip, live stream or banner.
  const replays = view === 'replays' || view === 'compare';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tradeloop${replays ? ` — ${view === 'compare' ? 'head to head' : 'replays'}` : ''}</title>
<link rel="stylesheet" href="/assets/uplot/uPlot.min.css">
<link rel="stylesheet" href="/assets/style.css">
</head>
<body data-view="${view}" data-readonly="${opts.readOnly ? '1' : '0'}">
<header>
  <a class="brand" href="/">tradeloop</a>
${replays ? '' : `  <span id="market" class="chip">market …</span>
  <span id="live" class="chip muted" title="live updates">● live</span>
`}  <nav><a href="/">Overview</a> <a href="/jobs">Jobs</a> <a href="/replays">Replays</a> <a href="/compare">Compare</a> <a href="/admin/queues">Queues (Bull Board)</a> <a href="/metrics">Metrics</a> <a href="/api/openapi.json">API</a>${opts.auth ? ' <form method="post" action="/logout" class="inline"><button class="link">Log out</button></form>' : ''}</nav>
</header>
${replays ? '' : '<div id="banner" class="banner" hidden></div>\n'}<div id="redis-down" class="banner error" hidden>Redis is unreachable: data below may be stale. Retrying…</div>
${opts.readOnly ? '<div class="banner info">Read-only dashboard: actions are disabled.</div>' : ''}
<main id="main">${replays ? `\n  ${view === 'compare' ? COMPARE_MAIN : REPLAYS_MAIN}\n` : ''}</main>
${scriptsOf(view).map((src) => `<script src="${src}"></script>`).join('\n')}
</body>
</html>`;
}

export function loginPage(next: string, failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tradeloop — log in</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login">
<form method="post" action="/login" class="card">
  <h1>tradeloop</h1>
  ${failed ? '<p class="error">That token is not right.</p>' : ''}
  <label>Dashboard token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
  <input type="hidden" name="next" value="${escape(next)}">
  <button type="submit">Log in</button>
</form>
</body></html>`;
}
