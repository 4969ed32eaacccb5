/** The replays page: a shell whose data comes from /api/replays (public/replays.js draws it). */
export function replaysPage(opts: { readOnly: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tradeloop — replays</title>
<link rel="stylesheet" href="/assets/uplot/uPlot.min.css">
<link rel="stylesheet" href="/assets/style.css">
</head>
<body data-view="replays" data-readonly="${opts.readOnly ? '1' : '0'}">
<header>
  <a class="brand" href="/">tradeloop</a>
  <nav><a href="/">Overview</a> <a href="/replays">Replays</a> <a href="/admin/queues">Queues (Bull Board)</a> <a href="/api/openapi.json">API</a></nav>
</header>
<div id="redis-down" class="banner error" hidden>Redis is unreachable: data below may be stale. Retrying…</div>
<main id="main">
  <section class="wide"><h2>Replays <small>past sessions through the live queues, each profile in its own ledger</small></h2><div id="replays" class="body muted">loading…</div></section>
  <section class="wide" id="detail" hidden></section>
</main>
<script src="/assets/uplot/uPlot.iife.min.js"></script>
<script src="/assets/replays.js"></script>
</body>
</html>`;
}
