// The overview: schedules, recent cycles, workers, queues with throughput, paper portfolios.
// Each section is one function of `sections`; a new panel is one more entry.
(() => {
  'use strict';
  const TL = window.TL;
  const { esc, fmtTime, money, pct, api } = TL;
  const ov = {};

  async function schedules() {
    const data = await api('/api/schedules');
    if (!data) return;
    const rows = data.schedules.map((s) => `
      <tr data-schedule="${esc(s.id)}">
        <td><b>${esc(s.id)}</b></td><td>${esc(s.agent)}</td><td>${esc(s.tickers.join(', '))}</td>
        <td>${esc(s.every || s.cron)}</td><td>${esc(s.market_hours)}</td>
        <td>${s.enabled ? (s.paused ? `<span class="muted" data-testid="pause-note">paused${s.pause ? ` by ${esc(s.pause.by)} ${fmtTime(s.pause.at)}${s.pause.note ? ': ' + esc(s.pause.note) : ''}` : ''}</span>` : fmtTime(s.next_run)) : '<span class="muted">disabled</span>'}</td>
        <td>${s.last_run ? `<span class="${esc(s.last_run.decision || '')}">${esc(s.last_run.decision || s.last_run.status)}</span> <span class="muted">${esc(s.last_run.ticker)}</span>` : '<span class="muted">—</span>'}</td>
        <td class="num" title="skipped by reason">${Object.entries(s.skipped).map(([k, v]) => `${esc(k)}:${v}`).join(' ') || '0'}</td>
        <td class="num">${s.rearmed}</td>
        <td class="actions">${TL.readOnly ? '' : `<button data-act="trigger">Trigger now</button> ${s.paused ? '<button data-act="resume">Resume</button>' : '<button data-act="pause">Pause</button>'}`} <a href="/jobs?schedule=${encodeURIComponent(s.id)}">jobs</a></td>
      </tr>`).join('');
    ov.schedules.innerHTML = `<table><thead><tr><th>id</th><th>agent</th><th>tickers</th><th>every/cron</th><th>session</th><th>next run</th><th>last decision</th><th>skipped</th><th>re-armed</th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="10" class="muted">no schedules loaded</td></tr>'}</tbody></table>
      <p class="muted">Schedules come from schedules.yaml; Bull Board refuses scheduler edits, which the next reconcile would overwrite.</p>`;
  }

  async function workers() {
    const data = await api('/api/workers');
    if (!data) return;
    ov.workers.innerHTML = `<table><thead><tr><th>worker</th><th>state</th><th>host</th><th>pid</th><th>queues</th><th class="num">concurrency</th><th class="num">active</th><th class="num">processed</th><th class="num">failed</th><th>last heartbeat</th></tr></thead><tbody>${
      data.workers.map((w) => `<tr><td>${esc(w.id)}</td><td class="${w.online ? 'status-completed' : 'status-failed'}">${w.online ? 'online' : 'offline'}</td><td>${esc(w.host)}</td><td>${w.pid}</td><td>${esc(w.queues.join(', '))}</td><td class="num">${w.concurrency}</td><td class="num">${w.active.length}</td><td class="num">${w.processed}</td><td class="num">${w.failed}</td><td>${fmtTime(w.last_heartbeat)}</td></tr>`).join('') || '<tr><td colspan="10" class="muted">no workers have reported</td></tr>'
    }</tbody></table>`;
  }

  let throughputPlot;
  let range = '1h';
  async function queues() {
    const [q, t] = await Promise.all([api('/api/queues'), api(`/api/stats/throughput?range=${range}`)]);
    if (!q || !t) return;
    const states = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'];
    const table = `<table><thead><tr><th>queue</th>${states.map((s) => `<th class="num">${s}</th>`).join('')}</tr></thead><tbody>${q.queues.map((x) => `<tr><td>${esc(x.name)}${x.paused ? ' <span class="muted">(paused)</span>' : ''}</td>${states.map((s) => `<td class="num">${x.counts[s] ?? 0}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
    const ranges = ['1h', '6h', '24h', '7d'].map((r) => `<button data-range="${r}" class="${r === range ? 'on' : ''}">${r}</button>`).join('');
    const per = t.bucket_s >= 3600 ? `${t.bucket_s / 3600}h` : `${t.bucket_s / 60}m`;
    ov.queues.innerHTML = `${table}<div class="chart-head"><span>Cycles finished per ${per} (New York time) · ${t.totals.completed} completed, ${t.totals.failed} failed, ${t.totals.skipped} skipped</span><span class="ranges">${ranges}</span></div><div id="throughput" data-buckets="${t.buckets.length}"></div>`;
    if (!window.uPlot) return;
    throughputPlot?.destroy();
    const xs = t.buckets.map((b) => b.t);
    throughputPlot = new uPlot({
      width: Math.min(ov.queues.clientWidth || 600, 900), height: 170, tzDate: TL.nyDate,
      series: [{}, { label: 'completed', stroke: '#2fbf71' }, { label: 'failed', stroke: '#e5484d' }, { label: 'skipped', stroke: '#8a96a6' }],
      axes: [{ stroke: '#8a96a6' }, { stroke: '#8a96a6' }],
    }, [xs, t.buckets.map((b) => b.completed), t.buckets.map((b) => b.failed + b.cancelled), t.buckets.map((b) => b.skipped)], document.getElementById('throughput'));
  }

  async function recent() {
    const data = await api('/api/jobs?limit=25');
    if (!data) return;
    TL.simulatedBanner(data.jobs.some((j) => j.data_source === 'simulated'), 'SIMULATED MARKET DATA — recent decisions were made on simulated prices, not real market data.');
    ov.recent.innerHTML = `<table><thead><tr><th>time</th><th>agent</th><th>ticker</th><th>decision</th><th class="num">confidence</th><th>engine / model</th><th class="num">cost</th><th class="num">duration</th><th>status</th><th></th></tr></thead><tbody>${
      data.jobs.map((j) => `<tr data-job="${esc(j.job_id)}"><td>${fmtTime(j.completed_at || j.started_at || j.created_at)}</td><td>${esc(j.agent)}</td><td>${esc(j.ticker)}</td><td class="${esc(j.decision || '')}">${esc(j.decision || '')}</td><td class="num">${j.confidence != null ? j.confidence.toFixed(2) : ''}</td><td>${esc(j.engine || '')}${j.models && j.models.length ? ' · ' + esc(j.models.join('+')) : ''}</td><td class="num">${j.cost_unknown ? (j.cost_usd ? '≥ $' + j.cost_usd.toFixed(4) + ' (unknown)' : 'unknown') : j.cost_usd != null ? '$' + j.cost_usd.toFixed(4) : ''}</td><td class="num">${j.duration_ms != null ? (j.duration_ms / 1000).toFixed(1) + 's' : ''}</td>${TL.statusCell(j)}<td><a href="/jobs/${encodeURIComponent(j.job_id)}">details</a></td></tr>`).join('') || '<tr><td colspan="10" class="muted">no cycles yet</td></tr>'
    }</tbody></table><p><a href="/jobs">All jobs, with filters →</a></p>`;
  }

  const equityPlots = {};
  async function portfolios() {
    const data = await api('/api/portfolio');
    if (!data) return;
    if (!data.portfolios.length) { ov.portfolio.innerHTML = '<p class="muted">No paper trades yet.</p>'; return; }
    const cards = await Promise.all(data.portfolios.map(async (p) => ({
      p,
      card: await api(`/api/agents/${encodeURIComponent(p.agent)}/scorecard`).catch(() => null),
      lessons: await api(`/api/agents/${encodeURIComponent(p.agent)}/lessons?limit=5`).catch(() => null),
    })));
    const lessonList = (l) => (l && l.lessons.length
      ? `<h4>Lessons <small class="muted">from scored decisions</small></h4><ul class="lessons">${l.lessons.map((x) => `<li><b>${esc(x.ticker)}</b> ${esc(x.date)} ${esc(x.decision)} → ${pct(x.return_5d)} over 5 sessions: ${esc(x.lesson)}</li>`).join('')}</ul>`
      : '');
    ov.portfolio.innerHTML = cards.map(({ p, card, lessons }) => `
      <div class="agent"><h3>${esc(p.agent)} <small class="muted">equity ${money(p.equity)} · cash ${money(p.cash)} · P&amp;L ${money(p.total_pnl)} (realized ${money(p.realized_pnl)}, unrealized ${money(p.unrealized_pnl)})</small></h3>
      <div id="eq-${esc(p.agent)}"></div>
      <table><thead><tr><th>ticker</th><th class="num">qty</th><th class="num">avg</th><th class="num">last</th><th class="num">value</th><th class="num">unrealized</th></tr></thead><tbody>${p.positions.map((x) => `<tr><td>${esc(x.ticker)}</td><td class="num">${x.quantity}</td><td class="num">${x.avg_price.toFixed(2)}</td><td class="num">${x.last_price.toFixed(2)}</td><td class="num">${money(x.market_value)}</td><td class="num">${money(x.unrealized_pnl)}</td></tr>`).join('') || '<tr><td colspan="6" class="muted">flat</td></tr>'}</tbody></table>
      ${card ? `<p class="muted">Scorecard: ${card.decisions} decisions, ${card.scored} scored, hit rate ${pct(card.hit_rate)}, avg 5d return BUY ${pct(card.avg_forward_return['5d'].BUY)} / SELL ${pct(card.avg_forward_return['5d'].SELL)}, avg cost ${card.avg_cost_usd == null ? (card.cost_unknown_decisions ? 'unknown' : '—') : '$' + card.avg_cost_usd.toFixed(4)}${card.cost_unknown_decisions ? ` (${card.cost_unknown_decisions} of ${card.decisions} decisions cost unknown)` : ''}, avg cycle ${((card.avg_cycle_ms || 0) / 1000).toFixed(1)}s${card.by_model.length > 1 ? ' · by model: ' + card.by_model.map((m) => `${esc(m.model)} ${pct(m.hit_rate)}`).join(', ') : ''}</p>` : ''}
      ${lessonList(lessons)}
      </div>`).join('');
    for (const { p } of cards) {
      const el = document.getElementById('eq-' + p.agent);
      if (!el || !window.uPlot || p.equity_curve.length < 2) continue;
      equityPlots[p.agent]?.destroy();
      equityPlots[p.agent] = new uPlot({ width: Math.min(ov.portfolio.clientWidth || 600, 900), height: 140, tzDate: TL.nyDate, series: [{}, { label: 'equity', stroke: '#4c9aff' }], axes: [{ stroke: '#8a96a6' }, { stroke: '#8a96a6', size: 80 }] }, [p.equity_curve.map((e) => Date.parse(e.t) / 1000), p.equity_curve.map((e) => e.equity)], el);
    }
  }

  const SCHEDULE_MESSAGES = {
    trigger: (id, r) => `Triggered ${id}: ${r.job_ids.length} cycle(s)`,
    pause: (id) => `Paused ${id}`,
    resume: (id) => `Resumed ${id}`,
  };

  TL.overviewSections = [
    { id: 'schedules', title: 'Schedules', wide: true, load: schedules },
    { id: 'recent', title: 'Recent cycles <small>live</small>', wide: true, load: recent },
    { id: 'workers', title: 'Workers', wide: true, load: workers },
    { id: 'queues', title: 'Queues <small>depth now · throughput counted by the workers</small>', load: queues },
    { id: 'portfolio', title: 'Paper portfolios', load: portfolios },
  ];

  TL.views.overview = function overview() {
    for (const s of TL.overviewSections) ov[s.id] = TL.section(s.id, s.title, s.wide);
    ov.schedules.addEventListener('click', async (e) => {
      const btn = e.target.closest('button[data-act]');
      if (!btn) return;
      const id = btn.closest('tr').dataset.schedule;
      const act = btn.dataset.act;
      const r = await TL.act(btn, () => api(`/api/schedules/${encodeURIComponent(id)}/${act}`, { method: 'POST', body: '{}' }), (res) => SCHEDULE_MESSAGES[act](id, res));
      if (r) setTimeout(() => { schedules(); recent(); }, 300);
    });
    ov.queues.addEventListener('click', (e) => {
      const btn = e.target.closest('button[data-range]');
      if (!btn) return;
      range = btn.dataset.range;
      queues();
    });
    const all = () => Promise.allSettled([TL.market(), ...TL.overviewSections.map((s) => s.load())]);
    all();
    setInterval(TL.market, 30000);
    setInterval(() => Promise.allSettled([workers(), queues(), schedules()]), 10000);
    let pending;
    TL.live((type) => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        recent();
        if (type === 'cycle.completed') portfolios();
        if (type.startsWith('schedule') || type.startsWith('cycle.')) schedules();
        if (type.startsWith('worker')) workers();
        if (type === 'cycle.completed' || type === 'cycle.failed' || type === 'cycle.skipped') queues();
      }, 250);
    });
  };
})();
