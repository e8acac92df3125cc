/* Server-owned time for every countdown on the page.
 *
 * Pings /ws/clock/ a few times, keeps the offset from the fastest round trip
 * (offset = serverTime - (t0 + rtt / 2)), and exposes BidhallClock.now() = Date.now() + offset.
 * Elements with [data-server-clock] show Beijing time; [data-countdown-to="<ISO time>"] count down.
 * A page whose content changes at a moment the server owns (a deadline, then the clock's opening) says so:
 * a countdown with [data-reload-at-zero] reloads the page once it reaches zero, and an element with
 * [data-reload-every="<seconds>"] reloads it every so often while it is on the page (a waiting notice).
 * Reloads are spread over a few seconds so a full room does not arrive at the same instant.
 *
 * A signed-in page has the header's unread badge ([data-unread-badge]): the socket then stays open, and the
 * server's {"type": "unread", "count": n} frames (sent on connect and whenever the count changes) update
 * the badge without a reload; a dropped socket reconnects with back-off (docs/realtime-protocol.md).
 */
(function () {
  "use strict";
  var offset = 0, bestRtt = Infinity, samples = 0;

  function now() { return Date.now() + offset; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function beijing(ms) {
    var d = new Date(ms + 8 * 3600 * 1000);  // Asia/Shanghai has no daylight saving time
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function remaining(ms) {
    if (ms <= 0) return "00:00:00";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400);
    var text = pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    return d > 0 ? d + "d " + text : text;
  }

  var reloading = false;

  function reloadSoon(seconds) {
    if (reloading) return;
    reloading = true;
    setTimeout(function () { location.reload(); }, (seconds + Math.random() * 2) * 1000);
  }

  function render() {
    var t = now();
    document.querySelectorAll("[data-server-clock]").forEach(function (el) { el.textContent = beijing(t); });
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var target = Date.parse(el.getAttribute("data-countdown-to"));
      if (isNaN(target)) return;
      el.textContent = remaining(target - t);
      if (target <= t && el.hasAttribute("data-reload-at-zero")) reloadSoon(1);
    });
  }

  function reloadWhileWaiting() {
    var el = document.querySelector("[data-reload-every]");
    var seconds = el ? parseInt(el.getAttribute("data-reload-every"), 10) : NaN;
    if (seconds > 0) reloadSoon(seconds);
  }

  function showUnread(count) {
    document.querySelectorAll("[data-unread-badge]").forEach(function (el) {
      el.textContent = String(count);
      el.classList.toggle("empty", count <= 0);
    });
  }

  var live = null, retry = 1;
  function keepOpen() { return document.querySelector("[data-unread-badge]") !== null; }

  function sync() {
    if (!("WebSocket" in window)) return;
    if (live && live.readyState === WebSocket.OPEN) {  // the badge's socket: ping on it again
      live.send(JSON.stringify({ type: "ping", t0: Date.now() }));
      return;
    }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws, stay = keepOpen();
    try { ws = new WebSocket(scheme + location.host + "/ws/clock/"); } catch (e) { return; }
    if (stay) live = ws;
    function ping() { ws.send(JSON.stringify({ type: "ping", t0: Date.now() })); }
    ws.onopen = function () { retry = 1; ping(); };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "unread" && typeof msg.count === "number") { showUnread(msg.count); return; }
      if (msg.type !== "clock" || typeof msg.t0 !== "number") return;
      var rtt = Date.now() - msg.t0;
      if (rtt < bestRtt) { bestRtt = rtt; offset = msg.server_time - (msg.t0 + rtt / 2); }
      if (++samples < 5) setTimeout(ping, 200); else if (!stay) ws.close();
    };
    ws.onclose = function () {
      if (!stay || live !== ws) return;
      live = null;
      retry = Math.min(retry * 2, 60);
      setTimeout(function () { samples = 5; sync(); }, (retry + Math.random() * 2) * 1000);
    };
    ws.onerror = function () { /* no WebSocket server (e.g. a plain WSGI test server): local time */ };
  }

  window.BidhallClock = {
    now: now,
    offset: function () { return offset; },
    synced: function () { return bestRtt < Infinity; }
  };
  render();
  setInterval(render, 250);
  reloadWhileWaiting();
  sync();
  setInterval(function () { bestRtt = Infinity; samples = 0; sync(); }, 5 * 60 * 1000);
})();
