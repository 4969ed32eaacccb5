// tradeloop dashboard: plain JS over the JSON API and Server-Sent Events (no build step).
(() => {
  'use strict';
  const body = document.body;
  const readOnly = body.dataset.readonly === '1';
  const main = document.getElementById('main');
  const NY = { timeZone: 'America/New_York' };
  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString('en-US', { ...NY, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }) + ' ET' : '—');
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const money = (n) => (n == null ? '—' : n.toLocaleString('en-US', { style: 'currency', currency: 'USD' }));
  const pct = (n) => (n == null ? '—' : (n * 100).toFixed(1) + '%');

  async function api(path, opts = {}) {
    const res = await fetch(path, { ...opts, headers: { 'x-tradeloop-request': '1', ...(opts.body ? { 'content-type': 'application/json' } : {}), ...(opts.headers || {}) } });
    document.getElementById('redis-down').hidden = res.status !== 503;
    if (res.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname); return null; }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw Object.assign(new Error((data && data.error) || res.statusText), { status: res.status, data });
    return data;
  }

  function section(id, title, wide) {
    const s = document.createElement('section');
    s.id = id;
    if (wide) s.className = 'wide';
    s.innerHTML = `<h2>${title}</h2><div class="body muted">loading…</div>`;
    main.appendChild(s);
    return s.querySelector('.body');
  }

  async function market() {
    try {
      const m = await api('/api/market/status');
      const el = document.getElementById('market');
      el.className = 'chip ' + (m.open ? 'open' : 'closed');
      el.textContent = m.open
        ? `market open (${m.session}) · closes ${fmtTime(m.next_close)}${m.early_close ? ' · early close' : ''}`
        : `market closed${m.holiday ? ' · ' + m.holiday : ''} · ${m.session !== 'closed' ? m.session + '-market · ' : ''}opens ${fmtTime(m.next_open)}`;
      el.dataset.testid = 'market-status';
    } catch { /* banner shows Redis state */ }
  }

  // ---------- overview ----------
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
        <td>${readOnly ? '' : `<button data-act="trigger">Trigger now</button> ${s.paused ? '<button data-act="resume">Resume</button>' : '<button data-act="pause">Pause</button>'}`}</td>
      </tr>`).join('');
    ov.schedules.innerHTML = `<table><thead><tr><th>id</th><th>agent</th><th>tickers</th><th>every/cron</th><th>session</th><th>next run</th><th>last decision</th><th>skipped</th><th>re-armed</th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="10" class="muted">no schedules loaded</td></tr>'}</tbody></table>
      <p class="muted">Schedules come from schedules.yaml; edits made in Bull Board's scheduler view are overwritten by the next reconcile.</p>`;
  }

  async function workers() {
    const data = await api('/api/workers');
    if (!data) return;
    ov.workers.innerHTML = `<table><thead><tr><th>worker</th><th>state</th><th>host</th><th>pid</th><th>queues</th><th class="num">concurrency</th><th class="num">active</th><th class="num">processed</th><th class="num">failed</th><th>last heartbeat</th></tr></thead><tbody>${
      data.workers.map((w) => `<tr><td>${esc(w.id)}</td><td class="${w.online ? 'status-completed' : 'status-failed'}">${w.online ? 'online' : 'offline'}</td><td>${esc(w.host)}</td><td>${w.pid}</td><td>${esc(w.queues.join(', '))}</td><td class="num">${w.concurrency}</td><td class="num">${w.active.length}</td><td class="num">${w.processed}</td><td class="num">${w.failed}</td><td>${fmtTime(w.last_heartbeat)}</td></tr>`).join('') || '<tr><td colspan="10" class="muted">no workers have reported</td></tr>'
    }</tbody></table>`;
  }

  let throughputPlot;
  async function queues() {
    const [q, recent] = await Promise.all([api('/api/queues'), api('/api/jobs?limit=500')]);
    if (!q || !recent) return;
    const states = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'];
    const table = `<table><thead><tr><th>queue</th>${states.map((s) => `<th class="num">${s}</th>`).join('')}</tr></thead><tbody>${q.queues.map((x) => `<tr><td>${esc(x.name)}${x.paused ? ' <span class="muted">(paused)</span>' : ''}</td>${states.map((s) => `<td class="num">${x.counts[s] ?? 0}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
    // Throughput and failures per minute over the last hour, from the job index.
    const now = Math.floor(Date.now() / 60000);
    const xs = [], ok = [], bad = [];
    for (let m = now - 59; m <= now; m++) { xs.push(m * 60); ok.push(0); bad.push(0); }
    for (const j of recent.jobs) {
      if (!j.completed_at) continue;
      const i = Math.floor(Date.parse(j.completed_at) / 60000) - (now - 59);
      if (i < 0 || i >= 60) continue;
      if (j.status === 'failed') bad[i]++; else if (j.status === 'completed') ok[i]++;
    }
    ov.queues.innerHTML = table + '<div id="throughput"></div>';
    if (window.uPlot) {
      throughputPlot?.destroy();
      throughputPlot = new uPlot({ width: Math.min(ov.queues.clientWidth || 600, 900), height: 160, series: [{}, { label: 'completed/min', stroke: '#2fbf71' }, { label: 'failed/min', stroke: '#e5484d' }], axes: [{ stroke: '#8a96a6' }, { stroke: '#8a96a6' }] }, [xs, ok, bad], document.getElementById('throughput'));
    }
  }

  async function recent() {
    const data = await api('/api/jobs?limit=25');
    if (!data) return;
    const simulated = data.jobs.some((j) => j.data_source === 'simulated');
    const banner = document.getElementById('banner');
    banner.hidden = !simulated;
    banner.textContent = simulated ? 'SIMULATED MARKET DATA — recent decisions were made on simulated prices, not real market data.' : '';
    ov.recent.innerHTML = `<table><thead><tr><th>time</th><th>agent</th><th>ticker</th><th>decision</th><th class="num">confidence</th><th>engine / model</th><th class="num">cost</th><th class="num">duration</th><th>status</th><th></th></tr></thead><tbody>${
      data.jobs.map((j) => `<tr data-job="${esc(j.job_id)}"><td>${fmtTime(j.completed_at || j.started_at || j.created_at)}</td><td>${esc(j.agent)}</td><td>${esc(j.ticker)}</td><td class="${esc(j.decision || '')}">${esc(j.decision || '')}</td><td class="num">${j.confidence != null ? j.confidence.toFixed(2) : ''}</td><td>${esc(j.engine || '')}${j.models && j.models.length ? ' · ' + esc(j.models.join('+')) : ''}</td><td class="num">${j.cost_usd != null ? '$' + j.cost_usd.toFixed(4) : ''}</td><td class="num">${j.duration_ms != null ? (j.duration_ms / 1000).toFixed(1) + 's' : ''}</td><td class="status-${esc(j.status)}">${esc(j.status)}${j.reason ? ` <span class="muted">(${esc(j.reason)})</span>` : ''}</td><td><a href="/jobs/${encodeURIComponent(j.job_id)}">details</a></td></tr>`).join('') || '<tr><td colspan="10" class="muted">no cycles yet</td></tr>'
    }</tbody></table>`;
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
      ${card ? `<p class="muted">Scorecard: ${card.decisions} decisions, ${card.scored} scored, hit rate ${pct(card.hit_rate)}, avg 5d return BUY ${pct(card.avg_forward_return['5d'].BUY)} / SELL ${pct(card.avg_forward_return['5d'].SELL)}, avg cost $${(card.avg_cost_usd || 0).toFixed(4)}, avg cycle ${((card.avg_cycle_ms || 0) / 1000).toFixed(1)}s${card.by_model.length > 1 ? ' · by model: ' + card.by_model.map((m) => `${esc(m.model)} ${pct(m.hit_rate)}`).join(', ') : ''}</p>` : ''}
      ${lessonList(lessons)}
      </div>`).join('');
    for (const { p } of cards) {
      const el = document.getElementById('eq-' + p.agent);
      if (!el || !window.uPlot || p.equity_curve.length < 2) continue;
      equityPlots[p.agent]?.destroy();
      equityPlots[p.agent] = new uPlot({ width: Math.min(ov.portfolio.clientWidth || 600, 900), height: 140, series: [{}, { label: 'equity', stroke: '#4c9aff' }], axes: [{ stroke: '#8a96a6' }, { stroke: '#8a96a6', size: 80 }] }, [p.equity_curve.map((e) => Date.parse(e.t) / 1000), p.equity_curve.map((e) => e.equity)], el);
    }
  }

  function overview() {
    ov.schedules = section('schedules', 'Schedules', true);
    ov.recent = section('recent', 'Recent cycles <small>live</small>', true);
    ov.workers = section('workers', 'Workers', true);
    ov.queues = section('queues', 'Queues <small>depth now · throughput last hour</small>');
    ov.portfolio = section('portfolio', 'Paper portfolios');
    ov.schedules.addEventListener('click', async (e) => {
      const btn = e.target.closest('button[data-act]');
      if (!btn) return;
      const id = btn.closest('tr').dataset.schedule;
      btn.disabled = true;
      try {
        const note = btn.dataset.act === 'pause' ? window.prompt(`Pause ${id}: note (optional)`) : null;
        if (btn.dataset.act === 'pause' && note === null) return;
        const r = await api(`/api/schedules/${encodeURIComponent(id)}/${btn.dataset.act}`, { method: 'POST', body: JSON.stringify(btn.dataset.act === 'pause' ? { by: 'dashboard', ...(note ? { note } : {}) } : {}) });
        if (btn.dataset.act === 'trigger' && r) flash(`Triggered ${id}: ${r.job_ids.length} cycle(s)`);
        setTimeout(schedules, 300);
      } catch (err) { alert(err.message); } finally { btn.disabled = false; }
    });
    const all = () => Promise.allSettled([market(), schedules(), workers(), queues(), recent(), portfolios()]);
    all();
    setInterval(market, 30000);
    setInterval(() => Promise.allSettled([workers(), queues(), schedules()]), 10000);
    let pending;
    live((type) => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        recent();
        if (type === 'cycle.completed') portfolios();
        if (type.startsWith('schedule') || type.startsWith('cycle.')) schedules();
        if (type.startsWith('worker')) workers();
      }, 250);
    });
  }

  function flash(text) {
    const b = document.getElementById('banner');
    b.hidden = false; b.className = 'banner info'; b.textContent = text;
    setTimeout(() => { b.className = 'banner'; recent(); }, 3000);
  }

  function live(onEvent) {
    const dot = document.getElementById('live');
    const es = new EventSource('/api/events');
    es.onopen = () => { dot.className = 'chip on'; };
    es.onerror = () => { dot.className = 'chip muted'; };
    for (const type of ['cycle.started', 'cycle.progress', 'cycle.completed', 'cycle.failed', 'cycle.skipped', 'schedule.changed', 'schedule.rearmed', 'worker.online', 'worker.offline']) {
      es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
    }
    return es;
  }

  // ---------- job page ----------
  async function jobPage() {
    const id = decodeURIComponent(location.pathname.split('/').pop());
    const el = section('job', `Cycle <small>${esc(id)}</small>`, true);
    async function render() {
      market();
      try {
        const j = await api(`/api/jobs/${encodeURIComponent(id)}`);
        if (!j) return;
        const p = j.progress && typeof j.progress === 'object' ? j.progress : { stage: '', percent: 0 };
        let result = null;
        if (j.status === 'completed') result = await api(`/api/jobs/${encodeURIComponent(id)}/result`).catch(() => null);
        // The LLM desk's own record: each role's output and every call, also for a failed cycle.
        const desk = await api(`/api/jobs/${encodeURIComponent(id)}/reports`).catch(() => null);
        const deskHtml = desk
          ? `<h2>LLM desk <small>${esc(desk.status)} · ${desk.usage.calls} calls · ${desk.usage.total_tokens} tokens · ${desk.usage.cost_unknown ? 'cost unknown (unpriced model) + ' : ''}$${desk.usage.cost_usd.toFixed(4)}</small></h2>
            <table><thead><tr><th>role</th><th>model</th><th class="num">prompt</th><th class="num">completion</th><th class="num">cost</th><th class="num">latency</th><th class="num">try</th></tr></thead><tbody>${desk.calls.map((c) => `<tr><td>${esc(c.role)}</td><td>${esc(c.model)}</td><td class="num">${c.prompt_tokens}</td><td class="num">${c.completion_tokens}</td><td class="num">${c.cost_unknown ? 'unknown' : '$' + c.cost_usd.toFixed(5)}</td><td class="num">${(c.latency_ms / 1000).toFixed(1)}s</td><td class="num">${c.attempt}</td></tr>`).join('')}</tbody></table>
            ${result ? '' : Object.entries(desk.role_reports).map(([k, v]) => `<h3>${esc(k.replace(/_/g, ' '))}</h3><pre class="report">${esc(v)}</pre>`).join('')}`
          : '';
        el.innerHTML = `<div class="kv">
          <div>status</div><div class="status-${esc(j.status)}" data-testid="job-status">${esc(j.status)}${j.reason ? ' — ' + esc(j.reason) : ''}</div>
          <div>ticker / agent</div><div>${esc(j.ticker)} · ${esc(j.agent)}</div>
          <div>queue / trigger</div><div>${esc(j.queue)} · ${esc(j.trigger)}${j.schedule_id ? ' · ' + esc(j.schedule_id) : ''}</div>
          <div>created / started / done</div><div>${fmtTime(j.created_at)} · ${fmtTime(j.started_at)} · ${fmtTime(j.completed_at)}</div>
          <div>attempts / worker</div><div>${j.attempts} · ${esc(j.worker || '—')}</div>
          <div>progress</div><div>${esc(p.stage || '')} <div class="progress"><div style="width:${Number(p.percent) || (j.status === 'completed' ? 100 : 0)}%"></div></div></div>
          ${j.error ? `<div>error</div><div class="error">${esc(j.error)}</div>` : ''}
        </div>
        ${result ? `<h2>Decision: <span class="${esc(result.decision)}">${esc(result.decision)}</span> <small>${esc(result.rating)} · confidence ${result.confidence} · ${esc(result.engine)}${result.models.length ? ' · ' + esc(result.models.join('+')) : ''} · data ${esc(result.data_source)} · price ${result.price}</small></h2>
        ${result.fill ? `<p>Paper fill: ${esc(result.fill.side)} ${result.fill.quantity} @ ${result.fill.price} (fees ${result.fill.fees})</p>` : '<p class="muted">No paper fill.</p>'}
        ${['final', 'market', 'fundamentals', 'news', 'sentiment', 'debate', 'trader', 'risk'].map((k) => `<h3>${k}</h3><pre class="report">${esc(result.reports[k])}</pre>`).join('')}` : ''}
        ${deskHtml}`;
        if (result && result.data_source === 'simulated') { const b = document.getElementById('banner'); b.hidden = false; b.textContent = 'SIMULATED MARKET DATA — this decision was made on simulated prices.'; }
      } catch (err) { el.innerHTML = `<p class="error">${esc(err.message)}</p>`; }
    }
    render();
    live((type, e) => { if (e.job_id === id) render(); });
  }

  if (body.dataset.view === 'job') jobPage(); else overview();
})();
