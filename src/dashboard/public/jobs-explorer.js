// The jobs explorer: every job the index knows, filtered (status, ticker, agent, schedule, decision,
// created date range in New York), paged with the API's cursor, with actions per row. Filters live in
// the address, so a filtered view can be bookmarked or pasted into a ticket.
(() => {
  'use strict';
  const TL = window.TL;
  const { esc, fmtTime, api } = TL;
  const FILTERS = ['status', 'ticker', 'agent', 'schedule', 'decision', 'from', 'to'];
  const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'skipped'];
  const DECISIONS = ['BUY', 'SELL', 'HOLD'];
  const PAGE = Math.min(Math.max(Number(new URLSearchParams(location.search).get('limit')) || 50, 1), 500);

  /** Row actions: each answers its button's HTML for a job (or ''), and what clicking it does. */
  TL.jobRowActions = [
    { id: 'cancel', html: (j) => (!TL.readOnly && (j.status === 'pending' || j.status === 'running') ? '<button data-act="cancel">Cancel</button>' : ''), run: (j) => api(`/api/jobs/${encodeURIComponent(j.job_id)}`, { method: 'DELETE' }), done: (j, r) => (r.cancel === 'cancelling' ? `Cancelling ${j.job_id}` : `Cancelled ${j.job_id}`) },
  ];
  const rowLinks = (j) => `<a href="/jobs/${encodeURIComponent(j.job_id)}">details</a> <a href="/admin/queues/queue/${encodeURIComponent(j.queue)}/${encodeURIComponent(j.job_id)}" class="muted">Bull Board</a>`;

  TL.views.jobs = function jobsExplorer() {
    TL.market();
    const el = TL.section('explorer', 'Jobs <small>newest first · times in New York</small>', true);
    const params = new URLSearchParams(location.search);
    const select = (name, values) => `<select name="${name}"><option value="">any ${name}</option>${values.map((v) => `<option${params.get(name) === v ? ' selected' : ''}>${v}</option>`).join('')}</select>`;
    const input = (name, type, placeholder) => `<input name="${name}" type="${type}" placeholder="${placeholder}" value="${esc(params.get(name) || '')}">`;
    el.classList.remove('muted');
    el.innerHTML = `<form id="filters" class="filters">
        ${select('status', STATUSES)} ${input('ticker', 'text', 'ticker')} ${input('agent', 'text', 'agent')} ${input('schedule', 'text', 'schedule')} ${select('decision', DECISIONS)}
        <label>from ${input('from', 'date', 'YYYY-MM-DD')}</label> <label>to ${input('to', 'date', 'YYYY-MM-DD')}</label>
        <button type="submit">Apply</button> <button type="button" data-clear>Clear</button>
      </form>
      <div id="jobs-table"></div>
      <div class="pager"><button data-page="newer" disabled>← Newer</button> <span id="page-no" class="muted"></span> <button data-page="older" disabled>Older →</button></div>`;
    const form = el.querySelector('#filters');
    const table = el.querySelector('#jobs-table');
    let rows = [];
    // Cursors of the pages seen so far: index 0 is the first page (no cursor).
    const cursors = [null];
    let page = 0;
    let next = null;

    const query = () => {
      const q = new URLSearchParams();
      for (const f of FILTERS) {
        const v = form.elements[f].value.trim();
        if (v) q.set(f, f === 'ticker' ? v.toUpperCase() : v);
      }
      return q;
    };

    async function load() {
      const q = query();
      q.set('limit', String(PAGE));
      if (cursors[page]) q.set('cursor', cursors[page]);
      table.innerHTML = '<p class="muted">loading…</p>';
      try {
        const data = await api('/api/jobs?' + q.toString());
        if (!data) return;
        rows = data.jobs;
        next = data.next_cursor;
        render();
      } catch (err) {
        table.innerHTML = `<p class="error">${esc(err.message)}</p>`;
        TL.toast(err.message, 'error');
      }
    }

    function render() {
      table.innerHTML = `<table><thead><tr><th>created</th><th>ticker</th><th>agent</th><th>schedule</th><th>trigger</th><th>decision</th><th class="num">confidence</th><th class="num">duration</th><th>status</th><th>actions</th></tr></thead><tbody>${
        rows.map((j, i) => `<tr data-job="${esc(j.job_id)}" data-i="${i}"><td>${fmtTime(j.created_at)}</td><td>${esc(j.ticker)}</td><td>${esc(j.agent)}</td><td>${esc(j.schedule_id || '—')}</td><td>${esc(j.trigger)}</td><td class="${esc(j.decision || '')}">${esc(j.decision || '')}</td><td class="num">${j.confidence != null ? j.confidence.toFixed(2) : ''}</td><td class="num">${j.duration_ms != null ? (j.duration_ms / 1000).toFixed(1) + 's' : ''}</td>${TL.statusCell(j)}<td class="actions">${TL.jobRowActions.map((a) => a.html(j)).join(' ')} ${rowLinks(j)}</td></tr>`).join('') || '<tr><td colspan="10" class="muted">no jobs match these filters</td></tr>'
      }</tbody></table>`;
      el.querySelector('[data-page="newer"]').disabled = page === 0;
      el.querySelector('[data-page="older"]').disabled = !next;
      el.querySelector('#page-no').textContent = `page ${page + 1} · ${rows.length} job(s)`;
    }

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      history.replaceState(null, '', '/jobs' + (query().toString() ? '?' + query().toString() : ''));
      cursors.length = 1;
      page = 0;
      load();
    });
    form.querySelector('[data-clear]').addEventListener('click', () => {
      form.reset();
      for (const f of FILTERS) form.elements[f].value = '';
      form.requestSubmit();
    });
    el.addEventListener('click', async (e) => {
      const pager = e.target.closest('button[data-page]');
      if (pager) {
        if (pager.dataset.page === 'older' && next) { cursors[page + 1] = next; page++; }
        else if (pager.dataset.page === 'newer' && page > 0) page--;
        return load();
      }
      const btn = e.target.closest('button[data-act]');
      if (!btn) return;
      const job = rows[Number(btn.closest('tr').dataset.i)];
      const action = TL.jobRowActions.find((a) => a.id === btn.dataset.act);
      if (!job || !action) return;
      const r = await TL.act(btn, () => action.run(job), (res) => action.done(job, res));
      if (r) setTimeout(load, 300);
    });
    load();
  };
})();
