/* The live auction room (docs/realtime-protocol.md).
 *
 * Everything on the page comes from one WebSocket: the first `state` frame is the full truth, then
 * events numbered by `seq` are applied in order (an event with seq <= lastSeq is ignored, a gap asks
 * for a fresh `state`). Time is the server's: offset = server_time - (t0 + rtt / 2) from the fastest
 * ping on this socket, and every countdown is drawn as target - (Date.now() + offset).
 *
 * Money never becomes a float: prices are strings on the wire and whole numbers of fen (cents) here,
 * exact far beyond the platform's largest amount.
 *
 * The words come from the page (#auction-strings), so the room speaks the site's language; for a room
 * bidding square metres (竞配建) the page gives the unit's words, so `T.yuan` is the unit shown.
 *
 * Land listings (挂牌出让) bid upwards ("≥ X", a bid far ABOVE the highest asks first): in the listing
 * phase an eligible bidder has no seat until its first valid bid (data-admit-on-bid), and that first bid
 * may equal the start price (data-first-bid-may-equal-start).
 */
(function () {
  "use strict";
  var root = document.getElementById("auction-room");
  if (!root) return;
  var T = JSON.parse(document.getElementById("auction-strings").textContent);
  var VIEW = root.getAttribute("data-view");
  var SOCKET = root.getAttribute("data-socket");
  var ADMIT_ON_BID = root.getAttribute("data-admit-on-bid") === "1";
  var FIRST_MAY_EQUAL = root.getAttribute("data-first-bid-may-equal-start") === "1";
  var baseTitle = document.title;

  var state = null;       // the last `state`, kept current by the events
  var lastSeq = -1;
  var syncing = false;
  var early = [];         // events that arrived while a fresh state was on its way
  var offset = 0, bestRtt = Infinity, pingsLeft = 0;
  var ws = null, attempts = 0, retryTimer = null, gone = false;
  var pending = null;     // {key, price}: a bid sent and not yet answered
  var knownEnd = null;    // ends_at as last drawn, to notice an extension

  function $(id) { return document.getElementById(id); }

  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined ? "" : values[name];
    });
  }

  // --- money: strings <-> whole fen ---------------------------------------------------------------

  function fen(text) {
    if (typeof text !== "string") return null;
    var m = /^\s*(\d{1,13})(?:\.(\d{1,2}))?\s*$/.exec(text.replace(/[,，\s]/g, ""));
    if (!m) return null;
    return Number(m[1]) * 100 + Number(((m[2] || "") + "00").slice(0, 2));
  }

  function yuan(value) {
    if (value === null || value === undefined) return "—";
    var f = typeof value === "number" ? value : fen(value);
    if (f === null) return String(value);
    var whole = String(Math.floor(f / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return whole + "." + String(f % 100 + 100).slice(1);
  }

  function plain(f) { return Math.floor(f / 100) + "." + String(f % 100 + 100).slice(1); }

  // --- time -------------------------------------------------------------------------------------

  function now() { return Date.now() + offset; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function beijing(iso) {
    var ms = typeof iso === "number" ? iso : Date.parse(iso);
    if (isNaN(ms)) return "—";
    var d = new Date(ms + 8 * 3600 * 1000);  // Asia/Shanghai has no daylight saving time
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function remaining(ms) {
    if (ms <= 0) return "00:00:00";
    var s = Math.ceil(ms / 1000), d = Math.floor(s / 86400);
    var text = pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    return d > 0 ? d + "d " + text : text;
  }

  // --- the room's arithmetic ------------------------------------------------------------------------

  function descending() { return state.auction.direction !== "ascending"; }

  function gain(reference, price) { return descending() ? reference - price : price - reference; }

  function participant(alias) {
    for (var i = 0; i < state.participants.length; i++) {
      if (state.participants[i].alias === alias) return state.participants[i];
    }
    return null;
  }

  function rerank() {
    var priced = state.participants.filter(function (p) { return fen(p.price) !== null; });
    priced.sort(function (a, b) {
      var d = descending() ? fen(a.price) - fen(b.price) : fen(b.price) - fen(a.price);
      if (d) return d;
      return Date.parse(a.price_at || 0) - Date.parse(b.price_at || 0);
    });
    state.participants.forEach(function (p) { p.rank = null; });
    priced.forEach(function (p, i) { p.rank = i + 1; });
    if (state.you && state.you.alias) {
      var mine = participant(state.you.alias);
      state.you.rank = mine ? mine.rank : null;
      state.you.price = mine ? mine.price : state.you.price;
    }
  }

  function reference() {
    var a = state.auction;
    if (a.format === "rounds") {
      if (a.status === "scheduled") return null;
      return state.you && fen(state.you.price) !== null ? fen(state.you.price) : null;
    }
    return fen(a.best_price !== null ? a.best_price : a.start_price);
  }

  function recomputeAllowed() {
    var a = state.auction, ref = reference(), step = fen(a.step);
    if (FIRST_MAY_EQUAL && a.format === "open" && a.best_price === null) {
      a.allowed_bid = a.start_price;  // a land listing's first bid may equal the start price
      return;
    }
    a.allowed_bid = ref === null ? null : plain(descending() ? ref - step : ref + step);
  }

  // A bidder with a seat; in a land listing's listing phase, also an eligible one still without a
  // seat: its first valid bid admits it.
  function seated() {
    var you = state.you;
    return !!you && ((you.admitted && you.may_bid !== false) || (ADMIT_ON_BID && !you.eligibility));
  }

  function currentTurn() {
    var t = now(), turns = state.turns || [];
    for (var i = 0; i < turns.length; i++) {
      if (Date.parse(turns[i].starts_at) <= t && t < Date.parse(turns[i].ends_at)) return turns[i];
    }
    return null;
  }

  function mayBid() {
    if (VIEW !== "bidder" || !state || !state.you) return false;
    var a = state.auction;
    if (a.format === "rounds" && a.status === "scheduled") return !state.you.eligibility;
    if (a.status !== "live" || !seated()) return false;
    if (now() >= Date.parse(a.ends_at)) return false;
    if (a.format === "rounds") {
      var turn = currentTurn();
      return !!turn && turn.alias === state.you.alias;
    }
    return true;
  }

  // --- drawing ------------------------------------------------------------------------------------

  function text(id, value) { var el = $(id); if (el) el.textContent = value; }

  function showBanner(message, kind) {
    var el = $("room-banner");
    el.hidden = !message;
    el.textContent = message || "";
    el.className = "alert banner wide" + (kind ? " " + kind : "");
  }

  function feedback(message, kind) {
    var el = $("bid-feedback");
    if (!el) return;
    el.textContent = message || "";
    el.className = "feedback" + (kind ? " " + kind : "");
    if (kind) el.setAttribute("data-kind", kind); else el.removeAttribute("data-kind");
  }

  function orgName(item) {
    return item && item.organization && item.organization.name ? item.organization.name : "";
  }

  function drawStatus() {
    var a = state.auction, el = $("room-status");
    el.textContent = T[a.status] || a.status;
    el.setAttribute("data-status", a.status);
    el.className = "badge " + (a.status === "live" ? "good" : a.status === "failed" ? "bad" : "warn");
    root.setAttribute("data-status", a.status);
    text("ends-at", beijing(a.ends_at));
    var next = $("next-step");
    if (next) next.hidden = !(a.status === "closed" || a.status === "failed");
    var failed = $("failed-notice");
    failed.hidden = a.status !== "failed";
    if (a.status === "failed") failed.textContent = fmt(T.failed_reason, { reason: a.failure_reason || "" });
  }

  function drawBest() {
    var a = state.auction;
    text("best-price", a.best_price !== null ? yuan(a.best_price) : T.no_bids);
    var alias = a.best_alias || "";
    if (alias && VIEW === "supervisor") {
      var p = participant(alias);
      if (orgName(p)) alias += "（" + orgName(p) + "）";
    }
    if (alias && state.you && state.you.alias === a.best_alias) alias += " " + T.you;
    text("best-alias", alias);
    text("rule-start", yuan(a.start_price) + " " + T.yuan);
    text("rule-step", yuan(a.step) + " " + T.yuan);
    text("accepted", String(a.accepted));
  }

  function drawYou() {
    if (VIEW !== "bidder" || !state.you) return;
    var you = state.you, a = state.auction;
    text("you-alias", you.alias || "—");
    text("you-price", you.price !== null ? yuan(you.price) + " " + T.yuan
      : you.initial_price ? yuan(you.initial_price) + " " + T.yuan
      : you.initial_sealed_at ? fmt(T.sealed, { time: beijing(you.initial_sealed_at) }) : "—");
    text("you-rank", you.rank ? fmt(T.rank, { rank: you.rank }) + (you.rank === 1 ? " · " + T.leading : "") : "—");
    var rankEl = $("you-rank");
    if (rankEl) rankEl.setAttribute("data-rank", you.rank || "");
    var note = "";
    if (a.status === "scheduled" && a.format === "open") note = T.waiting_start;
    else if (a.status !== "scheduled" && !a.finished && !you.admitted) {
      note = seated() ? T.admit_on_bid : T.not_admitted;
    }
    text("you-note", note);
    var allowed = "";
    if (a.allowed_bid && a.status !== "closed" && a.status !== "failed") {
      allowed = fmt(descending() ? T.allowed_le : T.allowed_ge, { price: yuan(a.allowed_bid) });
    } else if (a.format === "rounds" && a.status === "scheduled") {
      allowed = fmt(T.initial_le, { price: yuan(a.start_price) });
    }
    text("allowed-bid", allowed);
    var open = mayBid();
    $("bid-price").disabled = !open;
    $("bid-button").disabled = !open || !!pending;
    $("bid-form").hidden = !!a.finished;
  }

  function drawParticipants() {
    var rows = $("participants-rows");
    rows.textContent = "";
    var list = state.participants.slice().sort(function (a, b) {
      return (a.rank || 1e9) - (b.rank || 1e9) || (a.alias < b.alias ? -1 : 1);
    });
    list.forEach(function (p) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-alias", p.alias);
      if (state.you && state.you.alias === p.alias) tr.className = "mine";
      var name = p.alias + (orgName(p) ? "（" + orgName(p) + "）" : "");
      [p.rank || "—", name, p.price !== null ? yuan(p.price) : "—"].forEach(function (value, i) {
        var td = document.createElement("td");
        td.textContent = value;
        if (i === 2) td.className = "amount";
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
  }

  function historyItem(e) {
    var li = document.createElement("li");
    li.setAttribute("data-seq", e.seq);
    li.setAttribute("data-type", e.type);
    var parts = [[beijing(e.at), "t"]];
    if (e.type === "bid") {
      parts.push([e.alias + (orgName(e) ? "（" + orgName(e) + "）" : ""), "a"]);
      parts.push([T.event_bid, ""]);
      parts.push([yuan(e.price) + " " + T.yuan, "p"]);
    } else if (e.type === "started") {
      parts.push([T.event_started, ""]);
    } else if (e.type === "extended") {
      parts.push([fmt(T.event_extended, { time: beijing(e.ends_at) }), ""]);
    } else if (e.type === "round") {
      parts.push([fmt(T.event_round, { n: e.round }), ""]);
    } else if (e.type === "closed") {
      parts.push([T.event_closed + (e.reason ? "：" + e.reason : ""), ""]);
    } else {
      return null;
    }
    parts.forEach(function (part) {
      var span = document.createElement("span");
      span.textContent = part[0];
      if (part[1]) span.className = part[1];
      li.appendChild(span);
    });
    return li;
  }

  var HISTORY_SHOWN = 200;

  function drawHistory() {
    var list = $("history");
    list.textContent = "";
    for (var i = state.history.length - 1; i >= 0 && list.childNodes.length < HISTORY_SHOWN; i--) {
      var li = historyItem(state.history[i]);
      if (li) list.appendChild(li);
    }
  }

  function addHistory(e) {
    state.history.push(e);
    if (state.history.length > HISTORY_SHOWN) state.history.shift();
    var li = historyItem(e), list = $("history");
    if (!li) return;
    list.insertBefore(li, list.firstChild);
    while (list.childNodes.length > HISTORY_SHOWN) list.removeChild(list.lastChild);
  }

  function drawTurns() {
    var block = $("turns-block"), turns = state.turns || [];
    block.hidden = state.auction.format !== "rounds" || !turns.length || state.auction.status !== "live";
    if (block.hidden) return;
    if (state.round) text("turns-title", fmt(T.round, { n: state.round }));
    var rows = $("turns-rows");
    rows.textContent = "";
    turns.forEach(function (turn) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-alias", turn.alias);
      var mine = state.you && state.you.alias === turn.alias;
      var name = turn.alias + (mine ? " " + T.you : "");
      var p = participant(turn.alias);
      if (orgName(p)) name += "（" + orgName(p) + "）";
      [name, beijing(turn.starts_at) + " – " + beijing(turn.ends_at)].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
  }

  function drawResults() {
    var block = $("results-block"), results = state.results;
    block.hidden = !results || !results.length;
    if (block.hidden) return;
    var rows = $("results-rows");
    rows.textContent = "";
    results.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-testid", "result");
      if (state.you && state.you.alias === r.alias) tr.className = "mine";
      // A land phase names nobody at its close (the trade goes on under the same aliases).
      [r.rank, r.alias, r.bidder || "—", yuan(r.price)].forEach(function (value, i) {
        var td = document.createElement("td");
        td.textContent = value;
        if (i === 3) td.className = "amount";
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
  }

  function draw() {
    if (!state) return;
    drawStatus();
    drawBest();
    drawYou();
    drawParticipants();
    drawTurns();
    drawResults();
    tick();
  }

  // The clock: countdowns, the title bar, whose turn it is, the bid form's availability.
  function tick() {
    if (!state) return;
    var a = state.auction, t = now(), label, target = null;
    if (a.status === "scheduled") { label = T.to_start; target = Date.parse(a.starts_at); }
    else if (a.status === "live") { label = T.to_end; target = Date.parse(a.ends_at); }
    else { label = ""; }
    text("countdown-label", label);
    var counter = $("countdown"), title = baseTitle;
    if (target !== null) {
      var left = target - t, shown = remaining(left);
      counter.textContent = shown;
      counter.classList.toggle("urgent", a.status === "live" && left < 60000);
      title = shown + " · " + (T[a.status] || "") + " · " + baseTitle;
      if (a.status === "live" && left <= 0) text("countdown-label", T.ended);
    } else {
      counter.textContent = "";
      title = (T[a.status] || "") + " · " + baseTitle;
    }
    if (document.title !== title) document.title = title;
    if (a.format === "rounds" && a.status === "live") {
      var turn = currentTurn(), line = T.pause;
      if (turn) {
        line = state.you && turn.alias === state.you.alias ? T.your_turn : fmt(T.turn_of, { alias: turn.alias });
        line += " · " + remaining(Date.parse(turn.ends_at) - t);
      }
      text("turn-now", line);
      var rows = document.querySelectorAll("#turns-rows tr");
      for (var i = 0; i < rows.length; i++) {
        rows[i].classList.toggle("current", !!turn && rows[i].getAttribute("data-alias") === turn.alias);
      }
    }
    if (VIEW === "bidder" && state.you) {
      var open = mayBid();
      $("bid-price").disabled = !open;
      $("bid-button").disabled = !open || !!pending;
    }
  }

  // --- frames -------------------------------------------------------------------------------------

  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function requestSync() {
    if (syncing) return;
    syncing = true;
    send({ type: "sync" });
  }

  // "Extended" notice: an `extended` event, or a fresh state whose end is later than the one drawn.
  function noteEnd(endsAt, extensions) {
    if (knownEnd && endsAt && Date.parse(endsAt) > Date.parse(knownEnd) && state.auction.status === "live") {
      var el = $("extended-notice");
      el.hidden = false;
      el.textContent = fmt(T.extended, { time: beijing(endsAt), n: extensions });
    }
    if (endsAt) knownEnd = endsAt;
  }

  function onState(s) {
    state = s;
    state.auction.finished = s.auction.status === "closed" || s.auction.status === "failed";
    lastSeq = s.seq;
    syncing = false;
    state.round = null;
    for (var i = s.history.length - 1; i >= 0; i--) {
      if (s.history[i].type === "round") { state.round = s.history[i].round; break; }
    }
    noteEnd(s.auction.ends_at, s.auction.extensions_used);
    if (!s.auction.allowed_bid) recomputeAllowed();
    root.setAttribute("data-ready", "1");
    root.setAttribute("data-seq", String(lastSeq));
    attempts = 0;
    showBanner("");
    drawHistory();
    draw();
    var waiting = early;
    early = [];
    waiting.sort(function (x, y) { return x.seq - y.seq; }).forEach(onEvent);
    if (pending) {
      feedback(T.resending, "");
      send({ type: "bid", key: pending.key, price: pending.price });
    }
  }

  function onEvent(e) {
    if (!state || typeof e.seq !== "number" || e.seq <= lastSeq) return;  // never twice
    if (syncing || e.seq > lastSeq + 1) {  // a gap: ask for the truth, keep what came meanwhile
      if (early.length < 1000) early.push(e);
      requestSync();
      return;
    }
    lastSeq = e.seq;
    root.setAttribute("data-seq", String(lastSeq));
    var a = state.auction;
    if (e.type === "started") {
      a.status = "live";
      a.ends_at = knownEnd = e.ends_at;
      state.participants = (e.participants || []).map(function (p) {
        return { alias: p.alias, price: p.price, price_at: p.price_at, organization: p.organization, rank: null };
      });
      rerank();
      // A bidder learns its own alias from a fresh state (events carry aliases only).
      if (VIEW === "bidder") { addHistory(e); requestSync(); return; }
    } else if (e.type === "bid") {
      var p = participant(e.alias);
      if (!p) { p = { alias: e.alias }; state.participants.push(p); }
      p.price = e.price;
      p.price_at = e.at;
      if (e.organization) p.organization = e.organization;
      a.accepted += 1;
      var best = fen(a.best_price), price = fen(e.price);
      if (best === null || gain(best, price) > 0) { a.best_price = e.price; a.best_alias = e.alias; }
      a.ends_at = e.ends_at || a.ends_at;  // an extension follows as its own event
      rerank();
    } else if (e.type === "extended") {
      a.extensions_used = e.extensions_used;
      noteEnd(e.ends_at, e.extensions_used);
      a.ends_at = e.ends_at;
    } else if (e.type === "round") {
      state.round = e.round;
      state.turns = e.turns || [];
    } else if (e.type === "closed") {
      a.status = e.status;
      a.finished = true;
      a.failure_reason = e.reason || "";
      if (e.ends_at) a.ends_at = e.ends_at;
      state.results = e.results || [];
      state.turns = [];
      // Identities are revealed to everyone at the close.
      state.results.forEach(function (r) {
        var p = participant(r.alias);
        if (p) { p.organization = { id: r.organization, name: r.bidder }; p.rank = r.rank; }
        if (state.you && state.you.alias === r.alias) state.you.rank = r.rank;
      });
      a.allowed_bid = null;
    }
    if (e.type !== "closed") recomputeAllowed();
    addHistory(e);
    draw();
  }

  function onAnswer(frame) {
    if (!pending || frame.key !== pending.key) return;
    if (frame.type === "reject" && frame.code === "RETRY" && pending.retries < 3) {
      // The server could not commit: the same key again, shortly (the answer stays idempotent).
      var again = pending;
      again.retries += 1;
      feedback(T.resending, "");
      setTimeout(function () {
        if (pending === again) send({ type: "bid", key: again.key, price: again.price });
      }, 500 * again.retries);
      return;
    }
    var sent = pending;
    pending = null;
    if (frame.type === "ack") {
      // A sealed initial bid (rounds format) is acknowledged without its price: it is sealed.
      feedback(fmt(T.acked, { price: yuan(frame.price || sent.price) }), "ok");
      if (frame.seq === null && state.you) state.you.initial_sealed_at = frame.at;
      // A first listing bid gave this bidder a seat: its alias comes with a fresh state.
      if (state.you && !state.you.admitted) requestSync();
    } else {
      feedback(T.rejected + (frame.message || frame.code), "bad");
      $("bid-feedback").setAttribute("data-code", frame.code || "");
    }
    draw();
  }

  function onClock(frame) {
    var rtt = Date.now() - frame.t0;
    if (rtt >= 0 && rtt < bestRtt) {
      bestRtt = rtt;
      offset = frame.server_time - (frame.t0 + rtt / 2);
    }
    if (--pingsLeft > 0) setTimeout(ping, 200);
    tick();
  }

  function ping() { send({ type: "ping", t0: Date.now() }); }

  function calibrate() { bestRtt = Infinity; pingsLeft = 5; ping(); }

  function onFrame(message) {
    var frame;
    try { frame = JSON.parse(message.data); } catch (err) { return; }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "state") onState(frame);
    else if (frame.type === "ack" || frame.type === "reject") onAnswer(frame);
    else if (frame.type === "clock") onClock(frame);
    else if (frame.type === "error") feedback(frame.message || frame.code, "bad");
    else onEvent(frame);
  }

  // --- the socket, with back-off -------------------------------------------------------------------

  function connect() {
    retryTimer = null;
    if (gone) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    try { ws = new WebSocket(scheme + location.host + SOCKET); } catch (err) { retry(); return; }
    ws.onopen = function () { calibrate(); };
    ws.onmessage = onFrame;
    ws.onclose = function (event) {
      ws = null;
      syncing = false;
      if (event.code === 4404 || event.code === 4403) {
        gone = true;
        showBanner(T.not_found, "error");
        return;
      }
      retry();
    };
  }

  function retry() {
    if (retryTimer || gone) return;
    root.setAttribute("data-ready", "0");
    showBanner(T.reconnecting, "error");
    var delay = Math.min(10000, 500 * Math.pow(2, attempts)) + Math.floor(Math.random() * 300);
    attempts += 1;
    retryTimer = setTimeout(connect, delay);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (!ws && !gone) { if (retryTimer) clearTimeout(retryTimer); retryTimer = null; connect(); }
    else calibrate();
  });
  setInterval(function () { if (ws) calibrate(); }, 5 * 60 * 1000);
  setInterval(tick, 250);

  // --- the bid form --------------------------------------------------------------------------------

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function confirmation(price) {
    var a = state.auction, text = [];
    var best = fen(a.best_price);
    if (best !== null && best > 0 && gain(best, price) * 10 > best) {
      var pct = (Math.abs(gain(best, price)) * 100 / best).toFixed(1) + "%";
      text.push(fmt(descending() ? T.confirm_far : T.confirm_far_up,
        { price: yuan(price), best: yuan(best), pct: pct }));
    }
    if (state.you && state.you.alias && a.best_alias === state.you.alias) {
      text.push(fmt(T.confirm_leading, { price: yuan(price) }));
    }
    return text.join("\n");
  }

  function submitBid(price) {
    pending = { key: newKey(), price: plain(price), retries: 0 };
    feedback(T.sending, "");
    $("bid-feedback").removeAttribute("data-code");
    send({ type: "bid", key: pending.key, price: pending.price });  // else resent with the next state
    draw();
  }

  var form = $("bid-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!state || pending || !mayBid()) return;
      var price = fen($("bid-price").value);
      if (price === null || price <= 0) { feedback(T.bad_price, "bad"); return; }
      var question = confirmation(price);
      var dialog = $("confirm-dialog");
      if (!question) { submitBid(price); return; }
      $("confirm-text").textContent = question;
      dialog.returnValue = "";
      dialog.onclose = function () { if (dialog.returnValue === "ok") submitBid(price); };
      dialog.showModal();
    });
  }

  // For support staff and the browser tests: read-only views of the room, and a way to drop the socket.
  window.BidhallAuction = {
    now: now,
    offset: function () { return offset; },
    lastSeq: function () { return lastSeq; },
    state: function () { return state; },
    drop: function () { if (ws) ws.close(); }
  };

  connect();
})();
