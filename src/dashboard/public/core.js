// tradeloop dashboard, shared pieces: API calls, formatting in New York time, toasts, live events.
// Plain JS over the JSON API and Server-Sent Events (no build step). Each page lives in its own file
// and registers itself in TL.views; app.js starts the one the server named.
(() => {
  'use strict';
  const NY_ZONE = 'America/New_York';
  const NY = { timeZone: NY_ZONE };
  const TL = (window.TL = { views: {}, NY_ZONE });
  TL.readOnly = document.body.dataset.readonly === '1';
  TL.main = document.getElementById('main');

  TL.esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  TL.fmtTime = (iso) => (iso ? new Date(iso).toLocaleString('en-US', { ...NY, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }) + ' ET' : '—');
  TL.money = (n) => (n == null ? '—' : n.toLocaleString('en-US', { style: 'currency', currency: 'USD' }));
  TL.pct = (n) => (n == null ? '—' : (n * 100).toFixed(1) + '%');
  /** uPlot draws its time axis in this zone (the browser's own zone otherwise). */
  TL.nyDate = (ts) => (window.uPlot ? uPlot.tzDate(new Date(ts * 1e3), NY_ZONE) : new Date(ts * 1e3));

  TL.api = async function api(path, opts = {}) {
    const res = await fetch(path, { ...opts, headers: { 'x-tradeloop-request': '1', ...(opts.body ? { 'content-type': 'application/json' } : {}), ...(opts.headers || {}) } });
    document.getElementById('redis-down').hidden = res.status !== 503;
    if (res.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); return null; }
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const detail = data && data.details && data.details[0] ? ` (${data.details[0].field}: ${data.details[0].message})` : '';
      throw Object.assign(new Error(((data && data.error) || res.statusText) + detail), { status: res.status, data });
    }
    return data;
  };

  /** A message that does not block the page (instead of alert()); errors stay until dismissed. */
  TL.toast = function toast(text, kind = 'info') {
    let box = document.getElementById('toasts');
    if (!box) {
      box = document.createElement('div');
      box.id = 'toasts';
      box.setAttribute('aria-live', 'polite');
      document.body.appendChild(box);
    }
    const t = document.createElement('div');
    t.className = 'toast ' + kind;
    t.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    t.innerHTML = `<span></span><button class="link" aria-label="dismiss">×</button>`;
    t.firstChild.textContent = text;
    t.lastChild.onclick = () => t.remove();
    box.appendChild(t);
    if (kind !== 'error') setTimeout(() => t.remove(), 4000);
    return t;
  };

  TL.section = function section(id, title, wide) {
    const s = document.createElement('section');
    s.id = id;
    if (wide) s.className = 'wide';
    s.innerHTML = `<h2>${title}</h2><div class="body muted">loading…</div>`;
    TL.main.appendChild(s);
    return s.querySelector('.body');
  };

  TL.market = async function market() {
    try {
      const m = await TL.api('/api/market/status');
      const el = document.getElementById('market');
      el.className = 'chip ' + (m.open ? 'open' : 'closed');
      el.textContent = m.open
        ? `market open (${m.session}) · closes ${TL.fmtTime(m.next_close)}${m.early_close ? ' · early close' : ''}`
        : `market closed${m.holiday ? ' · ' + m.holiday : ''} · ${m.session !== 'closed' ? m.session + '-market · ' : ''}opens ${TL.fmtTime(m.next_open)}`;
    } catch { /* the Redis banner says why */ }
  };

  TL.EVENT_TYPES = ['cycle.started', 'cycle.progress', 'cycle.completed', 'cycle.failed', 'cycle.skipped', 'schedule.changed', 'schedule.rearmed', 'worker.online', 'worker.offline'];
  TL.live = function live(onEvent) {
    const dot = document.getElementById('live');
    const es = new EventSource('/api/events');
    es.onopen = () => { dot.className = 'chip on'; };
    es.onerror = () => { dot.className = 'chip muted'; };
    for (const type of TL.EVENT_TYPES) es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
    return es;
  };

  /** Runs a button's action with the button disabled, reporting the outcome as a toast. */
  TL.act = async function act(btn, run, success) {
    btn.disabled = true;
    try {
      const r = await run();
      if (success) TL.toast(typeof success === 'function' ? success(r) : success, 'success');
      return r;
    } catch (err) {
      TL.toast(err.message, 'error');
      return null;
    } finally {
      btn.disabled = false;
    }
  };

  TL.simulatedBanner = function simulatedBanner(on, text) {
    const b = document.getElementById('banner');
    b.hidden = !on;
    b.textContent = on ? text : '';
  };

  /** Job status cell shared by the tables. */
  TL.statusCell = (j) => `<td class="status-${TL.esc(j.status)}">${TL.esc(j.status)}${j.reason ? ` <span class="muted">(${TL.esc(j.reason)})</span>` : ''}</td>`;
})();
