/* The supervision dashboard's live rooms and audit chain.
 *
 * Draws the rooms from the JSON embedded in the page, then polls /supervision/live.json every few
 * seconds and draws them again: auctions (accepted bids, best price and who holds it, time left),
 * land listings in their confirming / live / maximum-price stages, openings being decrypted and expert
 * draws waiting for the supervisor's sign-off, each with a link into the room (read-only). Countdowns
 * are [data-countdown-to] elements, driven by server-clock.js on the server's time. The script holds
 * no words of its own: they come from #supervision-strings in the page's language.
 */
(function () {
  "use strict";
  var root = document.getElementById("supervision-live");
  if (!root) return;
  var S = JSON.parse(document.getElementById("supervision-strings").textContent);
  var data = JSON.parse(document.getElementById("supervision-live-data").textContent);
  var url = root.getAttribute("data-url");
  var interval = parseInt(root.getAttribute("data-interval"), 10) || 3000;
  var polls = 0;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (attrs[key] === null || attrs[key] === undefined) return;
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /* "35800000.00" → "35,800,000.00", on the string (money is never a float here). */
  function money(value) {
    if (value === null || value === undefined || value === "") return "—";
    var parts = String(value).split(".");
    var sign = parts[0].charAt(0) === "-" ? "-" : "";
    var whole = parts[0].replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + whole + (parts.length > 1 ? "." + parts[1] : "");
  }

  function counter(label, value, testid) {
    return el("span", {}, [label + " ", el("b", { "data-testid": testid, text: String(value) })]);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* The first frame of a countdown (server-clock.js keeps it running from then on). */
  function remaining(iso) {
    var now = window.BidhallClock ? window.BidhallClock.now() : Date.now();
    var ms = Date.parse(iso) - now;
    if (isNaN(ms)) return "--:--:--";
    if (ms <= 0) return "00:00:00";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400);
    var text = pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    return d > 0 ? d + "d " + text : text;
  }

  function countdown(label, iso, testid) {
    if (!iso) return null;
    return el("span", {}, [label + " ", el("span", { "class": "countdown", "data-countdown-to": iso, "data-testid": testid, text: remaining(iso) })]);
  }

  function heading(row, tail) {
    return el("h3", {}, [el("code", { text: row.project.number }), " ", row.project.title + (tail ? " · " + tail : "")]);
  }

  function auctionCard(a) {
    var best = a.best_price === null ? S.none
      : money(a.best_price) + " " + a.unit_label + " · " + a.best_alias + (a.best_name ? "（" + a.best_name + "）" : "");
    return el("li", { "class": "card", "data-testid": "live-auction", "data-id": a.id }, [
      heading(a, a.lot),
      el("div", { "class": "meta" }, [el("span", { "class": "badge warn", text: a.phase_label }), el("span", { text: a.format_label })]),
      el("div", { "class": "counters" }, [
        counter(S.accepted, a.accepted, "auction-accepted"),
        counter(S.participants, a.participants, "auction-participants"),
        el("span", {}, [S.best + " ", el("b", { "data-testid": "auction-best", text: best })]),
        countdown(S.left, a.ends_at, "auction-left"),
        a.extensions_used ? counter(S.extensions, a.extensions_used, "auction-extensions") : null
      ]),
      el("a", { "class": "button small", href: a.room_url, "data-testid": "enter-room", text: S.enter })
    ]);
  }

  function landCard(x) {
    return el("li", { "class": "card", "data-testid": "live-listing", "data-id": x.id }, [
      heading(x, x.parcel),
      el("div", { "class": "meta" }, [el("span", { "class": "badge warn", "data-testid": "listing-stage", text: x.stage_label })]),
      el("div", { "class": "counters" }, [
        counter(S.accepted, x.accepted, "listing-accepted"),
        el("span", {}, [S.best + " ", el("b", { text: x.best_price ? money(x.best_price) + " " + x.unit_label : S.none })]),
        countdown(S.stage_ends, x.stage_ends_at, "listing-left")
      ]),
      el("div", { "class": "actions" }, [
        x.room_url ? el("a", { "class": "button small", href: x.room_url, text: S.enter }) : null,
        el("a", { href: x.listing_url, text: S.listing })
      ])
    ]);
  }

  function openingCard(o) {
    return el("li", { "class": "card", "data-testid": "live-opening", "data-id": o.id }, [
      heading(o, o.lot),
      el("div", { "class": "counters" }, [
        counter(S.bids, o.bids, "opening-bids"),
        counter(S.decrypted, o.decrypted, "opening-decrypted"),
        counter(S.awaiting, o.awaiting, "opening-awaiting"),
        counter(S.failed, o.failed, "opening-failed"),
        countdown(S.decryption_left, o.decryption_until, "opening-left")
      ]),
      el("a", { "class": "button small", href: o.room_url, text: S.open_opening })
    ]);
  }

  function drawCard(d) {
    return el("li", { "class": "card", "data-testid": "live-draw", "data-id": d.id }, [
      heading(d, d.panel_label),
      el("div", { "class": "counters" }, [countdown(S.evaluation_at, d.evaluation_at, "draw-left")]),
      el("a", { "class": "button small", href: d.room_url, text: S.open_draw })
    ]);
  }

  function fill(listId, countId, rows, card) {
    var list = $(listId);
    list.replaceChildren.apply(list, rows.length ? rows.map(card) : [el("li", { "class": "muted", text: S.no_rooms })]);
    $(countId).textContent = String(rows.length);
  }

  function drawChain(chain) {
    $("chain-seq").textContent = String(chain.head.seq);
    $("chain-hash").textContent = chain.head.hash;
    var cp = chain.checkpoint, box = $("checkpoint");
    if (!cp) { box.replaceChildren(el("span", { "class": "muted", text: S.not_verified })); return; }
    var ok = $("checkpoint-ok");
    if (!ok || !$("checkpoint-time")) return; // first checkpoint appeared meanwhile: the next load shows it
    $("checkpoint-time").textContent = cp.verified_at_text;
    $("checkpoint-seq").textContent = String(cp.seq);
    ok.textContent = cp.ok ? S.ok : S.broken;
    ok.className = "badge " + (cp.ok ? "good" : "bad");
    ok.setAttribute("data-ok", cp.ok ? "1" : "0");
  }

  function draw(d) {
    fill("live-auctions", "count-auctions", d.auctions, auctionCard);
    fill("live-land", "count-land", d.land, landCard);
    fill("live-openings", "count-openings", d.openings, openingCard);
    fill("live-draws", "count-draws", d.draws, drawCard);
    drawChain(d.chain);
    $("alerts-open").textContent = String(d.alerts_open);
    root.setAttribute("data-ready", "1");
    root.setAttribute("data-polls", String(polls));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (fresh) {
        data = fresh;
        polls += 1;
        $("live-banner").hidden = true;
        draw(fresh);
      })
      .catch(function () {
        var banner = $("live-banner");
        banner.textContent = S.stale;
        banner.hidden = false;
      })
      .then(function () { setTimeout(poll, interval); });
  }

  draw(data);
  setTimeout(poll, interval);
  window.BidhallSupervision = { data: function () { return data; }, polls: function () { return polls; } };
})();
