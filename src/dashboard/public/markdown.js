// Reports are markdown written by the engines (and by LLMs): rendered by marked, then sanitised by
// DOMPurify before they touch the page, so a report can never carry a script or an event handler.
(() => {
  'use strict';
  const TL = window.TL;
  TL.renderMarkdown = function renderMarkdown(text) {
    if (!window.marked || !window.DOMPurify) return `<pre class="report">${TL.esc(text)}</pre>`;
    const html = marked.parse(String(text ?? ''), { gfm: true, breaks: false, async: false });
    return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input'], FORBID_ATTR: ['style'] });
  };
})();
