/* The land listing page: reload it when the listing moves on.
 *
 * The page itself is server-rendered (forms post to the server and come back). What changes while it is
 * open — the listing closes, a window ends, live bidding starts, the result comes — is read from the
 * listing's small status JSON: polled every few seconds, at once when a countdown on the page (drawn by
 * server-clock.js from the server's time) reaches zero, and when the tab comes back into view. A
 * different signature reloads the page; nothing is drawn from the JSON itself.
 */
(function () {
  "use strict";
  var root = document.getElementById("land-listing");
  if (!root || !window.fetch) return;
  var URL = root.getAttribute("data-status-url");
  var signature = root.getAttribute("data-signature");
  var POLL_MS = 4000;
  var busy = false, timer = null, reloading = false;

  function now() { return window.BidhallClock ? window.BidhallClock.now() : Date.now(); }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    timer = null;
    if (busy || reloading) return;
    if (document.visibilityState === "hidden") { schedule(POLL_MS); return; }
    busy = true;
    fetch(URL, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        busy = false;
        // Not while a signed answer is being signed (signing.js): its own submission reloads the page.
        if (data && data.signature !== signature && document.querySelector("form[data-sign-busy]")) {
          schedule(POLL_MS);
          return;
        }
        if (data && data.signature !== signature) {
          reloading = true;
          root.setAttribute("data-reloading", "1");
          location.reload();
          return;
        }
        schedule(POLL_MS);
      })
      .catch(function () { busy = false; schedule(POLL_MS * 2); });
  }

  // A countdown reaching zero: ask at once (and again shortly after, as the server closes on time).
  var due = [];
  document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
    var target = Date.parse(el.getAttribute("data-countdown-to"));
    if (!isNaN(target)) due.push(target);
  });
  setInterval(function () {
    var t = now();
    for (var i = 0; i < due.length; i++) {
      if (due[i] && t >= due[i] + 300) { due[i] = 0; schedule(0); }
    }
  }, 250);

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") schedule(0);
  });
  if (root.getAttribute("data-final") !== "1") schedule(POLL_MS);
})();
