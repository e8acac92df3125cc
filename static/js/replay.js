/* Replaying a finished auction step by step (supervisors).
 *
 * #replay-data holds every room event as a step (audit.supervision.replay): its server time in Beijing
 * time to the millisecond, what happened, the prices it changed (alias → price), and the standing after
 * it (best price and holder, end time, extensions used). This script only moves between the steps:
 * first / previous / play / pause / next, a slider and a speed, and redraws the step and each alias's
 * price at that step. No words of its own: #replay-strings holds them in the page's language.
 */
(function () {
  "use strict";
  var root = document.getElementById("replay");
  if (!root) return;
  var D = JSON.parse(document.getElementById("replay-data").textContent);
  var S = JSON.parse(document.getElementById("replay-strings").textContent);
  var steps = D.steps, names = D.names || {}, descending = D.auction.direction === "descending";
  var index = -1, prices = {}, timer = null;

  function $(id) { return document.getElementById(id); }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key] === undefined ? "" : String(values[key]); });
  }

  function money(value) {
    if (value === null || value === undefined || value === "") return "—";
    var parts = String(value).split(".");
    return parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (parts.length > 1 ? "." + parts[1] : "");
  }

  /* Exact comparison of two non-negative decimal strings (never through floats). */
  function compare(a, b) {
    var pa = a.split("."), pb = b.split(".");
    var ia = pa[0].replace(/^0+(?=\d)/, ""), ib = pb[0].replace(/^0+(?=\d)/, "");
    if (ia.length !== ib.length) return ia.length < ib.length ? -1 : 1;
    if (ia !== ib) return ia < ib ? -1 : 1;
    var fa = pa[1] || "", fb = pb[1] || "", width = Math.max(fa.length, fb.length);
    while (fa.length < width) fa += "0";
    while (fb.length < width) fb += "0";
    return fa === fb ? 0 : (fa < fb ? -1 : 1);
  }

  function who(alias) {
    return alias + (names[alias] ? "（" + names[alias] + "）" : "");
  }

  function describe(step) {
    switch (step.type) {
      case "started":
        return format(S.started_text, { list: (step.aliases || []).map(who).join("、") || S.nobody });
      case "bid":
        return format(S.bid_text, { who: who(step.alias), price: money(step.price), unit: S.unit });
      case "extended":
        return format(S.extended_text, { n: step.extensions_used, seq: step.trigger_seq, to: step.ends_text });
      case "round":
        return format(S.round_text, { n: step.round, order: (step.turns || []).join("、") });
      case "closed": {
        var status = S.status[step.status] || step.status;
        var text = step.reason ? format(S.closed_reason, { status: status, reason: step.reason }) : status;
        var first = (step.results || [])[0];
        return first ? text + "；" + format(S.first, { who: first.alias + "（" + first.name + "）", price: money(first.price), unit: S.unit }) : text;
      }
      default:
        return step.type;
    }
  }

  /* Move the accumulated prices to step `target` (forward by applying, backward by starting over). */
  function seek(target) {
    if (target < index) { prices = {}; index = -1; }
    while (index < target) {
      index += 1;
      var changed = steps[index].prices || {};
      Object.keys(changed).forEach(function (alias) { prices[alias] = { price: changed[alias], seq: steps[index].seq }; });
    }
  }

  function ranked() {
    var rows = Object.keys(names).concat(Object.keys(prices)).filter(function (alias, i, all) { return all.indexOf(alias) === i; });
    return rows.map(function (alias) { return { alias: alias, entry: prices[alias] }; }).sort(function (a, b) {
      if (!a.entry || !b.entry) return a.entry ? -1 : (b.entry ? 1 : (a.alias < b.alias ? -1 : 1));
      var c = compare(a.entry.price, b.entry.price);
      if (c !== 0) return descending ? c : -c;
      return a.entry.seq - b.entry.seq;  // the earlier price ranks first
    });
  }

  function drawTable(step) {
    var body = $("replay-prices");
    body.replaceChildren();
    var rank = 0;
    ranked().forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-alias", row.alias);
      if (step.type === "bid" && step.alias === row.alias) tr.className = "just";
      [row.entry ? String(++rank) : "—", row.alias, names[row.alias] || "", row.entry ? money(row.entry.price) : "—"].forEach(function (text, i) {
        var td = document.createElement("td");
        td.textContent = text;
        if (i === 3) td.className = "amount";
        if (i === 2) td.className = "wrap";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function draw() {
    var step = steps[index];
    $("replay-slider").value = String(index);
    $("replay-position").textContent = format(S.position, { i: index + 1, n: steps.length, seq: step.seq });
    $("step-time").textContent = step.at_text;
    $("step-type").textContent = S.types[step.type] || step.type;
    $("step-type").setAttribute("data-type", step.type);
    $("step-text").textContent = describe(step);
    $("step-best").textContent = step.best_price === null ? S.no_bid : money(step.best_price) + " " + S.unit;
    $("step-best-alias").textContent = step.best_alias ? who(step.best_alias) : "";
    $("step-ends").textContent = step.ends_text;
    $("step-extensions").textContent = String(step.extensions_used);
    drawTable(step);
    document.querySelectorAll("#replay-steps li").forEach(function (li) {
      if (Number(li.getAttribute("data-index")) === index) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    root.setAttribute("data-index", String(index));
    root.setAttribute("data-seq", String(step.seq));
    $("replay-prev").disabled = $("replay-first").disabled = index === 0;
    $("replay-next").disabled = index === steps.length - 1;
  }

  function go(target) {
    seek(Math.max(0, Math.min(steps.length - 1, target)));
    draw();
  }

  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    $("replay-play").hidden = false;
    $("replay-pause").hidden = true;
    root.setAttribute("data-playing", "0");
  }

  function play() {
    if (index >= steps.length - 1) go(0);
    pause();
    timer = setInterval(function () {
      if (index >= steps.length - 1) { pause(); return; }
      go(index + 1);
    }, Number($("replay-speed").value) || 800);
    $("replay-play").hidden = true;
    $("replay-pause").hidden = false;
    root.setAttribute("data-playing", "1");
  }

  if (!steps.length) { root.setAttribute("data-ready", "1"); return; }
  var list = $("replay-steps");
  steps.forEach(function (step, i) {
    var li = document.createElement("li");
    li.setAttribute("data-index", String(i));
    li.setAttribute("value", String(step.seq));
    li.textContent = step.at_text.slice(11) + " · " + (S.types[step.type] || step.type) + " · " + describe(step);
    li.addEventListener("click", function () { pause(); go(i); });
    list.appendChild(li);
  });
  $("replay-slider").max = String(steps.length - 1);
  $("replay-slider").addEventListener("input", function (event) { pause(); go(Number(event.target.value)); });
  $("replay-first").addEventListener("click", function () { pause(); go(0); });
  $("replay-prev").addEventListener("click", function () { pause(); go(index - 1); });
  $("replay-next").addEventListener("click", function () { pause(); go(index + 1); });
  $("replay-play").addEventListener("click", play);
  $("replay-pause").addEventListener("click", pause);
  $("replay-speed").addEventListener("change", function () { if (timer !== null) play(); });
  go(0);
  root.setAttribute("data-ready", "1");
  window.BidhallReplay = { go: go, index: function () { return index; }, steps: function () { return steps.length; } };
})();
