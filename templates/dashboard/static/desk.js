// Keeps the repost clock current without reloading the page. Served as a file: the dashboard's
// CSP allows scripts from 'self' only, never inline code.
(function () {
  "use strict";
  var box = document.getElementById("clock");
  if (!box || !box.dataset.refresh) {
    return;
  }
  var every = Math.max(1, Number(box.dataset.every || 30)) * 1000;
  function refresh() {
    fetch(box.dataset.refresh, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (answer) {
        if (answer.status === 401) {
          window.location.assign("/dashboard/login");
          return null;
        }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          box.innerHTML = html; // rendered and escaped by the server's templates
          box.dataset.refreshed = String(Number(box.dataset.refreshed || 0) + 1);
        }
      })
      .catch(function () {
        /* keep the last view; the next tick tries again */
      });
  }
  window.setInterval(refresh, every);
})();
