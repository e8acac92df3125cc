// The project form: "add a lot" copies the empty lot row (Django's formset __prefix__ template)
// without a round trip; without JavaScript the blank row already there still adds one lot.
(function () {
  "use strict";
  var button = document.getElementById("add-lot");
  var total = document.getElementById("id_lots-TOTAL_FORMS");
  var template = document.getElementById("lot-template");
  if (!button || !total || !template) return;
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    document.getElementById("lot-rows").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  });
})();
