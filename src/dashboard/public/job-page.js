// The job page: one cycle's state, chart, decision and reports, refreshed by live events.
// It is a list of panels (TL.jobPanels) and header actions (TL.jobPageActions): a new panel or
// button is one more entry, in its own file if it is large.
(() => {
  'use strict';
  const TL = window.TL;
  const { esc, fmtTime, api } = TL;
  const REPORT_ORDER = ['final', 'market', 'fundamentals', 'news', 'sentiment', 'debate', 'trader', 'risk'];

  TL.jobPageActions = [
    { id: 'cancel', html: (c) => (!TL.readOnly && (c.job.status === 'pending' || c.job.status === 'running') ? '<button data-act="cancel">Cancel</button>' : ''), run: (c) => api(`/api/jobs/${encodeURIComponent(c.id)}`, { method: 'DELETE' }), done: (c, r) => (r.cancel === 'cancelling' ? 'Cancelling…' : 'Cancelled') },
  ];

  function summary(el, c) {
    const { job: j, id } = c;
    const p = j.progress && typeof j.progress === 'object' ? j.progress : { stage: '', percent: 0 };
    el.innerHTML = `<div class="kv">
      <div>status</div><div class="status-${esc(j.status)}" data-testid="job-status">${esc(j.status)}${j.reason ? ' — ' + esc(j.reason) : ''}</div>
      <div>ticker / agent</div><div>${esc(j.ticker)} · ${esc(j.agent)}</div>
      <div>queue / trigger</div><div>${esc(j.queue)} · ${esc(j.trigger)}${j.schedule_id ? ` · <a href="/jobs?schedule=${encodeURIComponent(j.schedule_id)}">${esc(j.schedule_id)}</a>` : ''}</div>
      <div>created / started / done</div><div>${fmtTime(j.created_at)} · ${fmtTime(j.started_at)} · ${fmtTime(j.completed_at)}</div>
      <div>attempts / worker</div><div>${j.attempts} · ${esc(j.worker || '—')}</div>
      <div>progress</div><div>${esc(p.stage || '')} <div class="progress"><div style="width:${Number(p.percent) || (j.status === 'completed' ? 100 : 0)}%"></div></div></div>
      ${j.error ? `<div>error</div><div class="error">${esc(j.error)}</div>` : ''}
    </div>
    <p class="actions" id="job-actions">${TL.jobPageActions.map((a) => a.html(c)).join(' ')} <a href="/admin/queues/queue/${encodeURIComponent(j.queue)}/${encodeURIComponent(id)}">Open in Bull Board</a></p>`;
  }

  async function chart(el, c) {
    if (!c.result) { el.innerHTML = '<p class="muted">The chart appears when the cycle has completed.</p>'; return; }
    try {
      const bars = await api(`/api/jobs/${encodeURIComponent(c.id)}/bars`);
      if (!bars) return;
      el.innerHTML = `<p class="muted">${bars.bars.length} daily bars from ${esc(bars.data_source)}, dates in New York; dashed lines are the indicator values the cycle decided on.</p><div id="job-chart"></div>`;
      TL.drawJobChart(el.querySelector('#job-chart'), bars);
    } catch (err) {
      el.innerHTML = `<p class="muted">${esc(err.message)}</p>`;
    }
  }

  function decision(el, { result }) {
    if (!result) { el.innerHTML = '<p class="muted">No decision yet.</p>'; return; }
    el.innerHTML = `<h2>Decision: <span class="${esc(result.decision)}">${esc(result.decision)}</span> <small>${esc(result.rating)} · confidence ${result.confidence} · ${esc(result.engine)}${result.models.length ? ' · ' + esc(result.models.join('+')) : ''} · data ${esc(result.data_source)} · price ${result.price}</small></h2>
      ${result.fill ? `<p>Paper fill: ${esc(result.fill.side)} ${result.fill.quantity} @ ${result.fill.price} (fees ${result.fill.fees})</p>` : '<p class="muted">No paper fill.</p>'}
      ${REPORT_ORDER.map((k) => `<h3>${k}</h3><div class="report markdown" data-report="${k}">${TL.renderMarkdown(result.reports[k])}</div>`).join('')}`;
    TL.simulatedBanner(result.data_source === 'simulated', 'SIMULATED MARKET DATA — this decision was made on simulated prices.');
  }

  TL.jobPanels = [
    { id: 'job', title: (c) => `Cycle <small>${esc(c.id)}</small>`, wide: true, render: summary },
    { id: 'chart', title: () => 'Price chart <small>the bars the cycle analysed</small>', wide: true, render: chart, once: true },
    { id: 'decision', title: () => 'Decision and reports', wide: true, render: decision },
  ];

  TL.views.job = function jobPage() {
    const id = decodeURIComponent(location.pathname.split('/').pop());
    const bodies = {};
    const drawnOnce = new Set();
    let current = null;
    async function render() {
      TL.market();
      try {
        const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
        if (!job) return;
        const result = job.status === 'completed' ? await api(`/api/jobs/${encodeURIComponent(id)}/result`).catch(() => null) : null;
        current = { id, job, result };
        for (const p of TL.jobPanels) {
          if (!bodies[p.id]) bodies[p.id] = TL.section(p.id, p.title(current), p.wide);
          bodies[p.id].classList.remove('muted');
          // The chart is drawn once its data is final, not again on every progress event.
          if (p.once && result && drawnOnce.has(p.id)) continue;
          if (p.once && result) drawnOnce.add(p.id);
          await p.render(bodies[p.id], current);
        }
      } catch (err) {
        if (!bodies.job) bodies.job = TL.section('job', `Cycle <small>${esc(id)}</small>`, true);
        bodies.job.innerHTML = `<p class="error">${esc(err.message)}</p>`;
      }
    }
    TL.main.addEventListener('click', async (e) => {
      const btn = e.target.closest('#job-actions button[data-act]');
      if (!btn || !current) return;
      const action = TL.jobPageActions.find((a) => a.id === btn.dataset.act);
      if (!action) return;
      const c = current;
      const r = await TL.act(btn, () => action.run(c), (res) => action.done(c, res));
      if (r) setTimeout(render, 300);
    });
    render();
    TL.live((type, e) => { if (e.job_id === id) render(); });
  };
})();
