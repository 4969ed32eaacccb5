// The job page's LLM desk panel: every model call and, until the cycle completes (or when it failed
// or hit its token budget), each role's own output. Jobs that ran no LLM desk show nothing.
(() => {
  'use strict';
  const TL = window.TL;
  const { esc, api } = TL;

  async function desk(el, c) {
    const d = await api(`/api/jobs/${encodeURIComponent(c.id)}/reports`).catch(() => null);
    if (!d) { el.closest('section').hidden = true; return; }
    el.closest('section').hidden = false;
    el.innerHTML = `<p class="muted">${esc(d.status)} · ${d.usage.calls} calls · ${d.usage.total_tokens} tokens · ${d.usage.cost_unknown ? 'cost unknown (unpriced model) + ' : ''}$${d.usage.cost_usd.toFixed(4)}</p>
      <table><thead><tr><th>role</th><th>model</th><th class="num">prompt</th><th class="num">completion</th><th class="num">cost</th><th class="num">latency</th><th class="num">try</th></tr></thead><tbody>${d.calls.map((x) => `<tr><td>${esc(x.role)}</td><td>${esc(x.model)}</td><td class="num">${x.prompt_tokens}</td><td class="num">${x.completion_tokens}</td><td class="num">${x.cost_unknown ? 'unknown' : '$' + x.cost_usd.toFixed(5)}</td><td class="num">${(x.latency_ms / 1000).toFixed(1)}s</td><td class="num">${x.attempt}</td></tr>`).join('')}</tbody></table>
      ${c.result ? '' : Object.entries(d.role_reports).map(([k, v]) => `<h3>${esc(k.replace(/_/g, ' '))}</h3><div class="report markdown">${TL.renderMarkdown(v)}</div>`).join('')}`;
  }

  TL.jobPanels.push({ id: 'desk', title: () => 'LLM desk <small>calls and role reports</small>', wide: true, render: desk });
})();
