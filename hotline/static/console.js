// The console's only script, served from the console itself: its content
// security policy allows no inline script. Each page works without it.
"use strict";
(function () {
  // A template picked in a <select data-fill="ID"> fills the textarea ID.
  document.querySelectorAll("select[data-fill]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var target = document.getElementById(sel.dataset.fill);
      if (target) target.value = sel.value;
    });
  });

  // The length of a text as SMS, as the gateway will send it: GSM-7 (160 a
  // part, 153 when several) or UCS-2 (70, 67), shown in the element named
  // by the textarea's data-parts.
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var ext = "^{}\\[~]|€\f";
  function length(t) {
    var septets = 0, gsm = true;
    for (var ch of t) {
      if (basic.indexOf(ch) >= 0) septets++;
      else if (ext.indexOf(ch) >= 0) septets += 2;
      else { gsm = false; break; }
    }
    if (gsm) return ["GSM-7", septets <= 160 ? 1 : Math.ceil(septets / 153), septets];
    var units = t.length;
    return ["UCS-2", units <= 70 ? 1 : Math.ceil(units / 67), units];
  }
  document.querySelectorAll("textarea[data-parts]").forEach(function (ta) {
    var out = document.getElementById(ta.dataset.parts);
    function show() { if (!ta.value) { out.textContent = ""; return; } var l = length(ta.value); out.textContent = l[0] + ", " + l[1] + " SMS (" + l[2] + ")"; }
    ta.addEventListener("input", show); show();
  });

  // A page with data-refresh="MS" (a running campaign's) reloads itself
  // after MS milliseconds, unless it is in a hidden tab.
  var r = document.querySelector("[data-refresh]");
  if (r) setTimeout(function () { if (!document.hidden) location.replace(location.pathname) }, Number(r.dataset.refresh));
})();
