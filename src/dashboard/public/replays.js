// Replays page: the list with live progress, and one replay's equity curves, comparison charts and tables.
(() => {
  'use strict';
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const pct = (n) => (n == null ? '—' : (n * 100).toFixed(2) + '%');
  const num = (n, d = 2) => (n == null ? '—' : Number(n).toFixed(d));
  // A cost some of whose cycles' cost is not known is only a lower bound, and says so.
  const cost = (usd, unknown) => (unknown ? `<span class="cost-partial" title="the cost of ${unknown} cycle(s) is not known (an unpriced hosted model, or a server that reported no usage)">≥ $${num(usd, 4)} (${unknown} unknown)</span>` : '$' + num(usd, 4));
  const COLORS = ['#4c9aff', '#2fbf71', '#e5484d', '#d0a93a', '#b07cff', '#36c5d0', '#ff8c42', '#9aa5b1'];
  const selected = () => new URLSearchParams(location.search).get('id') || location.pathname.split('/')[2] || null;

  async function api(path) {
    const res = await fetch(path, { headers: { 'x-tradeloop-request': '1' } });
    document.getElementById('redis-down').hidden = res.status !== 503;
    if (res.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname); return null; }
    if (!res.ok) throw new Error(res.statusText);
    return res.json();
  }

  async function list() {
    const data = await api('/api/replays');
    const el = document.getElementById('replays');
    if (!data) return;
    el.classList.remove('muted');
    if (!data.replays.length) { el.innerHTML = '<p class="muted">No replays yet: <code>tradeloop replay start --profiles quant --tickers SPY --from 2025-01-02 --to 2025-12-31</code></p>'; return; }
    el.innerHTML = `<table><thead><tr><th>Replay</th><th>Status</th><th>Progress</th><th>Profiles</th><th>Tickers</th><th>Range</th><th class="num">Cost</th><th class="num">ETA</th></tr></thead><tbody>${data.replays
      .map((r) => `<tr data-replay="${esc(r.replay_id)}"><td><a href="/replays/${esc(r.replay_id)}">${esc(r.replay_id)}</a></td><td class="replay-status status-${r.status === 'done' ? 'completed' : r.status === 'running' ? 'running' : 'failed'}">${esc(r.status)}</td>
        <td style="min-width:160px"><div class="progress"><div style="width:${Math.round((100 * r.progress.done) / Math.max(1, r.progress.total))}%"></div></div><span class="replay-progress">${r.progress.done}/${r.progress.total}</span></td>
        <td>${esc(r.profiles.join(', '))}</td><td>${esc(r.tickers.join(', '))}</td><td>${esc(r.from)} → ${esc(r.to)}</td><td class="num">${cost(r.cost_usd, r.cost_unknown_cycles)}</td><td class="num">${r.eta_s == null ? '—' : r.eta_s + ' s'}</td></tr>`)
      .join('')}</tbody></table>`;
    return data.replays;
  }

  const plots = {};
  function plot(id, el, opts, data) {
    if (!window.uPlot) return;
    if (plots[id]) plots[id].destroy();
    plots[id] = new uPlot({ width: Math.min(el.clientWidth || 900, 1200), height: 220, axes: [{ stroke: '#8a96a6' }, { stroke: '#8a96a6', size: 70 }], ...opts }, data, el);
  }

  async function detail(id) {
    const r = await api(`/api/replays/${encodeURIComponent(id)}`);
    if (!r) return;
    const box = document.getElementById('detail');
    box.hidden = false;
    const rep = r.report;
    box.innerHTML = `<h2>Replay ${esc(r.replay_id)} <small>${esc(r.status)} · ${r.progress.done}/${r.progress.total} cycles · ${r.sessions} sessions${r.reason ? ' · ' + esc(r.reason) : ''}</small></h2>
      <p><a href="/api/replays/${esc(r.replay_id)}/report.json">report.json</a> · <a href="/api/replays/${esc(r.replay_id)}/report.csv">report.csv</a></p>
      <h3>Equity curves vs buy-and-hold</h3><div id="equity-chart"></div>
      <table id="profiles-table"><thead><tr><th>Profile</th><th>Engine</th><th class="num">Cycles</th><th class="num">BUY/SELL/HOLD</th><th class="num">Return</th><th class="num">Buy &amp; hold</th><th class="num">Max DD</th><th class="num">Sharpe</th><th class="num">Hit +1</th><th class="num">Hit +5</th><th class="num">Mean +5 BUY</th><th class="num">Mean +5 SELL</th><th class="num">Cost</th><th class="num">Tokens</th><th class="num">Mean / p95 ms</th></tr></thead><tbody>${rep.profiles
        .map((p) => `<tr data-profile="${esc(p.profile)}"><td>${esc(p.profile)}</td><td>${esc(p.engine)}${p.models.length ? ' · ' + esc(p.models.join(', ')) : ''}</td><td class="num">${p.cycles.completed}/${p.cycles.total}</td><td class="num">${p.decisions.BUY}/${p.decisions.SELL}/${p.decisions.HOLD}</td><td class="num">${pct(p.strategy.total_return)}</td><td class="num">${pct(p.buy_and_hold.total_return)}</td><td class="num">${pct(p.strategy.max_drawdown)}</td><td class="num">${num(p.strategy.sharpe)}</td><td class="num">${pct(p.forward['1d'].hit_rate)}</td><td class="num">${pct(p.forward['5d'].hit_rate)}</td><td class="num">${pct(p.forward['5d'].mean_return.BUY)}</td><td class="num">${pct(p.forward['5d'].mean_return.SELL)}</td><td class="num">${cost(p.cost_usd, p.cost_unknown_cycles)}</td><td class="num">${p.tokens}</td><td class="num">${p.cycle_ms.mean ?? '—'} / ${p.cycle_ms.p95 ?? '—'}</td></tr>`)
        .join('')}</tbody></table>
      ${rep.comparisons.length ? '<h3>Comparison</h3><div id="compare-chart"></div>' : ''}
      ${rep.comparisons
        .map((c) => `<div class="compare" data-pair="${esc(c.a)}|${esc(c.b)}"><p><b>${esc(c.a)}</b> vs <b>${esc(c.b)}</b>: agreement <span class="agreement">${pct(c.agreement_rate)}</span> over ${c.compared} decisions, cost ratio ${c.cost_ratio == null ? '— (' + cost(c.cost_usd.a, c.cost_unknown_cycles && c.cost_unknown_cycles.a) + ' vs ' + cost(c.cost_usd.b, c.cost_unknown_cycles && c.cost_unknown_cycles.b) + ')' : num(c.cost_ratio) + '×'}</p>
          <table class="confusion"><thead><tr><th>${esc(c.a)} \\ ${esc(c.b)}</th><th>BUY</th><th>SELL</th><th>HOLD</th></tr></thead><tbody>${['BUY', 'SELL', 'HOLD'].map((d) => `<tr><th class="${d}">${d}</th>${['BUY', 'SELL', 'HOLD'].map((e) => `<td class="num">${c.confusion[d][e]}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`)
        .join('')}`;
    // One time axis for every profile: the union of their points.
    const times = [...new Set(rep.profiles.flatMap((p) => p.equity_curve.map((e) => Date.parse(e.t) / 1000)))].sort((a, b) => a - b);
    if (times.length >= 2) {
      const series = [{}];
      const data = [times];
      rep.profiles.forEach((p, k) => {
        const at = new Map(p.equity_curve.map((e) => [Date.parse(e.t) / 1000, e]));
        series.push({ label: p.profile, stroke: COLORS[k % COLORS.length], width: 2 });
        data.push(times.map((t) => at.get(t)?.equity ?? null));
        series.push({ label: p.profile + ' buy & hold', stroke: COLORS[k % COLORS.length], dash: [6, 4] });
        data.push(times.map((t) => at.get(t)?.buy_and_hold ?? null));
      });
      plot('equity', document.getElementById('equity-chart'), { series, spanGaps: true }, data);
    }
    // Agreement rate of each pair, as bars on a 0–1 scale.
    if (rep.comparisons.length) {
      const xs = rep.comparisons.map((_, i) => i + 1);
      plot('compare', document.getElementById('compare-chart'), {
        scales: { x: { time: false }, y: { range: [0, 1] } },
        axes: [{ stroke: '#8a96a6', values: (_u, v) => v.map((i) => { const c = rep.comparisons[i - 1]; return c ? c.a + ' vs ' + c.b : ''; }) }, { stroke: '#8a96a6' }],
        series: [{}, { label: 'agreement rate', stroke: '#4c9aff', fill: 'rgba(76,154,255,0.3)', paths: window.uPlot.paths.bars({ size: [0.5] }) }],
      }, [xs, rep.comparisons.map((c) => c.agreement_rate)]);
    }
    return r.status;
  }

  async function refresh() {
    try {
      await list();
      const id = selected();
      if (id) {
        const status = await detail(id);
        if (status && status !== 'running') return setTimeout(refreshList, 3000);
      }
    } catch (err) { /* shown by the Redis banner or the next refresh */ }
    setTimeout(refresh, 1000);
  }
  async function refreshList() { try { await list(); } catch {} setTimeout(refreshList, 3000); }
  refresh();
})();
