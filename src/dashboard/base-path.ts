/**
 * BASE_PATH for our own pages: their root-relative links, sources and form actions gain the prefix, and
 * a small script (public/base-path.js) prefixes the requests and links the page's script builds at run
 * time. Without a prefix the page is returned unchanged.
 */
export function withBasePath(html: string, base: string): string {
  if (!base) return html;
  const prefixed = html.replace(/\b(href|src|action)="\/(?!\/)/g, `$1="${base}/`);
  const shim = `<script src="${base}/assets/base-path.js" data-base="${base}"></script>`;
  return prefixed.includes('<script') ? prefixed.replace('<script', `${shim}\n<script`) : prefixed.replace('</head>', `${shim}\n</head>`);
}
