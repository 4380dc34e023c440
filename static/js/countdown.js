// Ticks every <time data-countdown="SECONDS"> down once a second; the server already wrote the text,
// so without this script the page still says how long is left when it was rendered.
(function () {
  "use strict";
  var started = Date.now();

  function text(seconds) {
    if (seconds <= 0) return null;
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      if (!el.dataset.deadline) el.dataset.deadline = Date.now() + 1000 * Number(el.dataset.countdown);
      var left = Math.max(0, Math.round((Number(el.dataset.deadline) - Date.now()) / 1000));
      var shown = text(left);
      el.textContent = shown || el.dataset.done || "0:00";
      if (!shown && el.dataset.ends) {
        // The ticket has ended: its form pays for nothing now. The panel's own trigger fetches what follows.
        var form = document.getElementById(el.dataset.ends);
        if (form) form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }
      if (!shown && el.dataset.reload !== undefined && !el.dataset.reloaded && Date.now() - started > 1500) {
        el.dataset.reloaded = "1";  // the sale has opened: let the server say what the shopper can do now
        window.setTimeout(function () { window.location.reload(); }, 1000);
      }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
