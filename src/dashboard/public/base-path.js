// Served only when the dashboard runs under BASE_PATH: root-relative URLs built by the page's script
// (API calls, live events, links, redirects to the login page) gain the prefix.
(() => {
  const base = document.currentScript.dataset.base || '';
  if (!base) return;
  const fix = (url) => (typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && url !== base && !url.startsWith(base + '/') ? base + url : url);
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init) => nativeFetch(fix(input), init);
  const NativeEventSource = window.EventSource;
  window.EventSource = class extends NativeEventSource {
    constructor(url, opts) {
      super(fix(url), opts);
    }
  };
  const fixLinks = (root) => {
    for (const a of root.querySelectorAll('a[href^="/"]')) a.setAttribute('href', fix(a.getAttribute('href')));
  };
  new MutationObserver((changes) => {
    for (const c of changes) for (const n of c.addedNodes) if (n.nodeType === 1) fixLinks(n.parentNode || n);
  }).observe(document.documentElement, { childList: true, subtree: true });
  window.tradeloopBase = base;
})();
