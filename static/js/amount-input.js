/* Help a person type an amount of money; the server's contract stays strict (lib/money.py).
 *
 * For every <input data-amount> (lib.money.AmountFormField renders the attribute): full-width and
 * Arabic-Indic digits become ASCII digits, a full-width or ideographic full stop becomes ".", spaces and
 * thousands separators go away. A line under the input says exactly what will be sent, or why it cannot
 * be; when the form is submitted a valid amount replaces what was typed. Text that is still not an amount
 * is sent as typed, so the server (not a possibly stale copy of its rule here) refuses it and says why.
 *
 * No inline script or handler is needed (a Content-Security-Policy may forbid them): the texts come from
 * this script's own data-* attributes (base.html), and events are delegated from the document, so rows
 * added later (another lot) work too. Other scripts may call window.BidhallAmount.normalize(text).
 */
(function () {
  "use strict";
  // lib.money.AMOUNT_PATTERN (tests/lib/test_money.py keeps the two equal).
  var PATTERN = /^[0-9]{1,13}(\.[0-9]{1,2})?$/;
  var script = document.currentScript;
  var label = {
    sent: (script && script.getAttribute("data-sent")) || "Will send: ",
    invalid: (script && script.getAttribute("data-invalid")) || "Not an amount.",
  };

  // Digit blocks whose ten code points stand for 0–9: full-width, Arabic-Indic, extended Arabic-Indic.
  var ZEROS = [0xff10, 0x0660, 0x06f0];
  var POINTS = /[\uff0e\u3002\u066b]/g; // ．。٫
  var SEPARATORS = /[\s,\uff0c\u066c]/g; // spaces (full-width too), , ， ٬

  function asciiDigits(text) {
    return text.replace(/[\uff10-\uff19\u0660-\u0669\u06f0-\u06f9]/g, function (ch) {
      var code = ch.charCodeAt(0);
      for (var i = 0; i < ZEROS.length; i++) {
        if (code >= ZEROS[i] && code <= ZEROS[i] + 9) return String(code - ZEROS[i]);
      }
      return ch;
    });
  }

  /* {text, valid}: the text that would be sent for what the person typed. */
  function normalize(typed) {
    var text = asciiDigits(String(typed)).replace(POINTS, ".").replace(SEPARATORS, "");
    return { text: text, valid: PATTERN.test(text) };
  }

  function isAmountInput(el) {
    return el && el.tagName === "INPUT" && el.hasAttribute("data-amount");
  }

  function previewFor(input) {
    var id = (input.id || input.name) + "-amount-preview";
    var line = document.getElementById(id);
    if (!line) {
      line = document.createElement("p");
      line.id = id;
      line.className = "amount-preview";
      line.setAttribute("aria-live", "polite");
      line.setAttribute("data-testid", "amount-preview");
      input.insertAdjacentElement("afterend", line);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", described ? described + " " + id : id);
    }
    return line;
  }

  function show(input) {
    var line = previewFor(input);
    if (input.value === "") {
      line.textContent = "";
      line.hidden = true;
      return;
    }
    var result = normalize(input.value);
    line.hidden = false;
    line.classList.toggle("invalid", !result.valid);
    line.textContent = result.valid ? label.sent + result.text : label.invalid;
  }

  document.addEventListener("input", function (event) {
    if (isAmountInput(event.target)) show(event.target);
  });
  document.addEventListener(
    "submit",
    function (event) {
      var inputs = event.target.querySelectorAll("input[data-amount]");
      for (var i = 0; i < inputs.length; i++) {
        var result = normalize(inputs[i].value);
        if (inputs[i].value !== "" && result.valid) inputs[i].value = result.text;
      }
    },
    true
  );

  function init() {
    document.querySelectorAll("input[data-amount]").forEach(function (input) {
      if (input.value !== "") show(input);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.BidhallAmount = { normalize: normalize, pattern: PATTERN };
})();
