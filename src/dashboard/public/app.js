// Starts the page the server named in <body data-view>; each view lives in its own file.
(() => {
  'use strict';
  const view = window.TL.views[document.body.dataset.view] || window.TL.views.overview;
  view();
})();
