// tradeloop operations on our pages: the job page's attempts, log lines, Retry / Cancel and approval
// buttons; the overview's timeline of today's session per schedule. Plain JS over the JSON API.
(() => {
  'use strict';
  const body = document.body;
  const readOnly = body.dataset.readonly === '1';
  const main = document.getElementById('main');
  const NY = { timeZone: 'America/New_York' };
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-US', { ...NY, hour: '2-digit', minute: '2-digit', hour12: false }) : '—');
  const when = (iso) => (iso ? new Date(iso).toLocaleString('en-US', { ...NY, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }) + ' ET' : '—');

  async function api(path, opts = {}) {
    const res = await fetch(path, { ...opts, headers: { 'x-tradeloop-request': '1', ...(opts.body ? { 'content-type': 'application/json' } : {}) } });
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new Error((data && data.error) || res.statusText);
    return data;
  }

  function panel(id, title) {
    const s = document.createElement('section');
    s.id = id;
    s.className = 'wide';
    s.innerHTML = `<h2>${title}</h2><div class="body muted">loading…</div><p class="ops-msg muted" data-testid="${id}-msg"></p>`;
    main.appendChild(s);
    return { body: s.querySelector('.body'), msg: s.querySelector('.ops-msg') };
  }

  function onEvents(types, fn) {
    const es = new EventSource('/api/events');
    for (const t of types) es.addEventListener(t, (e) => fn(t, JSON.parse(e.data)));
  }

  // ---------- job page: triage and approval ----------
  function jobOps() {
    const id = decodeURIComponent(location.pathname.split('/').pop());
    const p = panel('job-ops', 'Attempts and log');
    async function render() {
      try {
        const [j, logs] = await Promise.all([api(`/api/jobs/${encodeURIComponent(id)}`), api(`/api/jobs/${encodeURIComponent(id)}/logs`).catch(() => ({ logs: [] }))]);
        const actions = readOnly ? '' : [
          j.status === 'failed' || j.status === 'cancelled' ? '<button data-op="retry" data-testid="retry">Retry</button>' : '',
          j.status === 'awaiting_approval' ? '<button data-op="approve" data-testid="approve">Approve</button> <button data-op="reject" data-testid="reject">Reject</button>' : '',
        ].join(' ');
        const approval = j.approval ? `<p data-testid="approval">Approval: <b>${esc(j.approval.status)}</b>${j.approval.settled_by ? ` by ${esc(j.approval.settled_by)} at ${when(j.approval.settled_at)}` : ''}${j.approval.status === 'pending' ? ` · expires ${when(j.approval.expires_at)}` : ''}${j.approval.note ? ` — ${esc(j.approval.note)}` : ''}</p>` : '';
        const attempts = (j.attempts_log || []).map((a) => `<tr><td>#${a.attempt}</td><td class="status-${esc(a.outcome)}">${esc(a.outcome)}</td><td>${when(a.started_at)}</td><td>${when(a.ended_at)}</td><td>${esc(a.worker || '')}</td><td>${esc(a.detail || '')}${a.error ? `<span class="error">${esc(a.error_name ? a.error_name + ': ' : '')}${esc(a.error)}</span>` : ''}${a.stack ? `<details><summary>stack trace</summary><pre class="report">${esc(a.stack)}</pre></details>` : ''}</td></tr>`).join('');
        p.body.className = 'body';
        p.body.innerHTML = `${actions ? `<p>${actions}</p>` : ''}${approval}
          <table data-testid="attempts"><thead><tr><th>attempt</th><th>outcome</th><th>started</th><th>ended</th><th>worker</th><th>detail / error</th></tr></thead><tbody>${attempts || '<tr><td colspan="6" class="muted">no attempt yet</td></tr>'}</tbody></table>
          <h3>Log</h3><pre class="report" data-testid="job-log">${esc(logs.logs.join('\n')) || '<span class="muted">no log lines yet</span>'}</pre>`;
      } catch (err) { p.body.innerHTML = `<p class="error">${esc(err.message)}</p>`; }
    }
    p.body.addEventListener('click', async (e) => {
      const btn = e.target.closest('button[data-op]');
      if (!btn) return;
      const op = btn.dataset.op;
      const note = null; // no blocking dialogs on our pages; `tradeloop reject <id> --note` records a reason
      btn.disabled = true;
      try {
        const path = op === 'retry' ? `/api/jobs/${encodeURIComponent(id)}/retry`
          : op === 'cancel' ? `/api/jobs/${encodeURIComponent(id)}`
          : `/api/decisions/${encodeURIComponent(id)}/${op}`;
        await api(path, { method: op === 'cancel' ? 'DELETE' : 'POST', body: op === 'cancel' ? undefined : JSON.stringify(op === 'retry' ? {} : { by: 'dashboard', ...(note ? { note } : {}) }) });
        p.msg.className = 'ops-msg'; p.msg.textContent = `${op} sent`;
        window.TL?.toast?.(`${op} sent`);
      } catch (err) { p.msg.className = 'ops-msg error'; p.msg.textContent = `${op} refused: ${err.message}`; window.TL?.toast?.(`${op} refused: ${err.message}`, 'error'); }
      finally { btn.disabled = false; render(); }
    });
    render();
    onEvents(['cycle.started', 'cycle.progress', 'cycle.completed', 'cycle.failed', 'cycle.skipped', 'decision.pending', 'decision.approved', 'decision.rejected', 'decision.expired'], (_t, e) => { if (e.job_id === id) render(); });
  }

  // ---------- overview: today's session per schedule ----------
  const COLORS = { completed: 'var(--buy)', failed: 'var(--sell)', cancelled: 'var(--sell)', skipped: 'var(--hold)', running: 'var(--accent)', pending: 'var(--muted)', missing: '#ff9aa0', planned: '#34465a' };
  function timelines() {
    const p = panel('timelines', "Today's sessions <small>planned slots against what happened (New York time)</small>");
    async function render() {
      try {
        const list = (await api('/api/schedules')).schedules;
        const details = await Promise.all(list.filter((s) => s.enabled).map((s) => api(`/api/schedules/${encodeURIComponent(s.id)}`)));
        p.body.className = 'body';
        p.body.innerHTML = details.map((d) => {
          const t = d.today;
          const head = `<h3>${esc(d.id)} <small class="muted">${t.session ? `${hhmm(t.session.open)}–${hhmm(t.session.close)}${t.session.early_close ? ' early close' : ''}` : 'market closed today'} · today: ran ${d.counts.today.ran}, failed ${d.counts.today.failed}, skipped ${Object.values(d.counts.today.skipped).reduce((a, b) => a + b, 0)}${d.pause ? ` · <span class="error">paused by ${esc(d.pause.by)}${d.pause.note ? ': ' + esc(d.pause.note) : ''}</span>` : ''}</small></h3>`;
          if (!t.session) return head;
          const open = Date.parse(t.session.open), span = Date.parse(t.session.close) - open;
          const rows = d.tickers.map((ticker) => `<div class="tl-row"><span class="tl-label">${esc(ticker)}</span><div class="tl-bar">${t.slots.map((s) => {
            const r = s.runs.find((x) => x.ticker === ticker) || { status: 'planned' };
            const left = ((Date.parse(s.at) - open) / span) * 100;
            return `<span class="tl-slot" data-status="${esc(r.status)}" style="left:${left.toFixed(2)}%;background:${COLORS[r.status] || '#555'}" title="${esc(hhmm(s.at))} ${esc(r.decision || r.status)}${r.reason ? ' (' + esc(r.reason) + ')' : ''}">${r.job_id ? `<a href="/jobs/${encodeURIComponent(r.job_id)}"></a>` : ''}</span>`;
          }).join('')}</div></div>`).join('');
          return head + rows + (t.truncated ? `<p class="muted">${t.truncated} more slots not drawn</p>` : '');
        }).join('') || '<p class="muted">no enabled schedules</p>';
      } catch (err) { p.body.innerHTML = `<p class="error">${esc(err.message)}</p>`; }
    }
    render();
    setInterval(render, 30000);
    let pending;
    onEvents(['cycle.completed', 'cycle.failed', 'cycle.skipped', 'schedule.changed'], () => { clearTimeout(pending); pending = setTimeout(render, 1000); });
  }

  if (body.dataset.view === 'job') jobOps(); else if (body.dataset.view === 'overview') timelines();
})();
