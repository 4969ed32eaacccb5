// Head-to-head page: two agents' live decisions on the same points, drawn as charts with the tables under them.
(() => {
  'use strict';
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const pct = (n) => (n == null ? '—' : (n * 100).toFixed(1) + '%');
  const usd = (n) => (n == null ? '—' : '$' + Number(n).toFixed(4));
  const COLORS = ['#4c9aff', '#2fbf71'];
  const form = document.getElementById('compare-form');
  const box = document.getElementById('h2h');

  async function api(path) {
    const res = await fetch(path, { headers: { 'x-tradeloop-request': '1' } });
    document.getElementById('redis-down').hidden = res.status !== 503;
    if (res.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); return null; }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.details?.[0]?.message ? `${body.error}: ${body.details[0].message}` : body.error || res.statusText);
    return body;
  }

  const plots = {};
  function plot(id, el, opts, data) {
    if (!window.uPlot) return;
    if (plots[id]) plots[id].destroy();
    plots[id] = new uPlot({ width: Math.min(el.clientWidth || 700, 900), height: 220, axes: [{ stroke: '#8a96a6' }, { stroke: '#8a96a6', size: 60 }], ...opts }, data, el);
  }
  const categories = (labels) => ({ stroke: '#8a96a6', values: (_u, v) => v.map((i) => labels[i - 1] ?? '') });
  const bars = (align) => window.uPlot.paths.bars({ size: [0.35, 80], align });

  function render(h) {
    const A = h.a.agent;
    const B = h.b.agent;
    const costNote = (s) => (s.cost_unknown ? ` <span class="muted">(${s.cost_unknown} unknown, left out)</span>` : '');
    box.classList.remove('muted');
    box.innerHTML = `<p class="h2h-summary"><b>${esc(A)}</b> vs <b>${esc(B)}</b>: <span class="shared">${h.shared}</span> decision point(s) both decided (${esc(h.source)}${h.ticker ? ', ' + esc(h.ticker) : ''}${h.from || h.to ? ', ' + esc(h.from ?? '…') + ' → ' + esc(h.to ?? '…') : ''}) ·
        agreement <span class="agreement">${pct(h.agreement_rate)}</span> · cost ratio ${h.cost_ratio == null ? '— (a side is free or has unknown costs)' : h.cost_ratio + '×'}</p>
      <div class="chart-row"><div><h3>Hit rate and return of following the calls (+5 sessions)</h3><div id="h2h-chart"></div></div>
        <div><h3>Where they disagreed: whose call the market bore out</h3><div id="disagree-chart"></div></div></div>
      <table id="h2h-table"><thead><tr><th>Agent</th><th class="num">Decisions</th><th class="num">Scored calls</th><th class="num">Hit rate +5</th><th class="num">Following its calls +5</th><th class="num">Cost / decision</th><th class="num">Cost (shared, known)</th></tr></thead><tbody>${[h.a, h.b]
        .map((s) => `<tr data-agent="${esc(s.agent)}"><td>${esc(s.agent)}</td><td class="num">${s.decisions}</td><td class="num">${s.scored}</td><td class="num">${pct(s.hit_rate)}</td><td class="num">${pct(s.avg_call_return_5d)}</td><td class="num">${usd(s.avg_cost_usd)}${costNote(s)}</td><td class="num">${usd(s.cost_usd)}</td></tr>`)
        .join('')}</tbody></table>
      <table class="confusion"><thead><tr><th>${esc(A)} \\ ${esc(B)}</th><th>BUY</th><th>SELL</th><th>HOLD</th></tr></thead><tbody>${['BUY', 'SELL', 'HOLD'].map((d) => `<tr><th class="${d}">${d}</th>${['BUY', 'SELL', 'HOLD'].map((e) => `<td class="num">${h.confusion[d][e]}</td>`).join('')}</tr>`).join('')}</tbody></table>
      <p class="muted">Disagreements with a known +5 return: ${h.disagreements.scored} (${esc(A)} right ${h.disagreements.a_right}, ${esc(B)} right ${h.disagreements.b_right}, neither ${h.disagreements.neither}). A HOLD is never counted right.</p>`;
    // Nothing scored yet: say when the charts will have something to show rather than draw empty axes.
    const pending = (id, what) => { document.getElementById(id).innerHTML = `<p class="muted pending">${what}</p>`; };
    if (h.a.scored + h.b.scored === 0) pending('h2h-chart', 'No BUY or SELL call has its +5-session return yet: the scorecard fills it in five sessions after the decision.');
    else plot('h2h', document.getElementById('h2h-chart'), {
      scales: { x: { time: false, range: [0.5, 2.5] } },
      axes: [categories(['hit rate', 'following its calls']), { stroke: '#8a96a6', size: 60, values: (_u, v) => v.map((x) => (x * 100).toFixed(0) + '%') }],
      series: [{}, { label: A, stroke: COLORS[0], fill: COLORS[0] + '99', paths: bars(-1) }, { label: B, stroke: COLORS[1], fill: COLORS[1] + '99', paths: bars(1) }],
    }, [[1, 2], [h.a.hit_rate, h.a.avg_call_return_5d], [h.b.hit_rate, h.b.avg_call_return_5d]]);
    if (h.disagreements.scored === 0) pending('disagree-chart', h.shared - Math.round((h.agreement_rate ?? 0) * h.shared) === 0 ? 'They have not disagreed on a shared point.' : 'No disagreement has its +5-session return yet.');
    else plot('disagree', document.getElementById('disagree-chart'), {
      scales: { x: { time: false, range: [0.5, 3.5] } },
      axes: [categories([A + ' right', B + ' right', 'neither']), { stroke: '#8a96a6', size: 40 }],
      series: [{}, { label: 'decision points', stroke: '#d0a93a', fill: 'rgba(208,169,58,0.5)', paths: window.uPlot?.paths.bars({ size: [0.5, 100] }) }],
    }, [[1, 2, 3], [h.disagreements.a_right, h.disagreements.b_right, h.disagreements.neither]]);
  }

  async function show() {
    const q = new URLSearchParams(location.search);
    for (const k of ['a', 'b', 'ticker', 'from', 'to']) if (q.get(k)) form.elements[k].value = q.get(k);
    if (!q.get('a') || !q.get('b')) return;
    const params = new URLSearchParams();
    for (const k of ['ticker', 'from', 'to']) if (q.get(k)) params.set(k, q.get(k));
    box.textContent = 'loading…';
    try {
      const h = await api(`/api/agents/${encodeURIComponent(q.get('a'))}/compare/${encodeURIComponent(q.get('b'))}${params.size ? '?' + params : ''}`);
      if (h) render(h);
    } catch (err) {
      box.classList.add('muted');
      box.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of ['a', 'b', 'ticker', 'from', 'to']) if (form.elements[k].value) q.set(k, form.elements[k].value.trim());
    history.pushState(null, '', location.pathname + '?' + q);
    show();
  });
  window.addEventListener('popstate', show);
  // Agents that keep a paper portfolio are offered in the pickers; any other name can be typed.
  api('/api/portfolio').then((p) => {
    document.getElementById('agents').innerHTML = (p?.portfolios ?? []).map((x) => `<option value="${esc(x.agent)}">`).join('');
  }).catch(() => {});
  show();
})();
