// The waiting room keeps polling while the shop is away, so the waiter keeps their place (a stop of the
// platform does not count against them). A poll that cannot connect leaves #sale-status in place and its
// `every` trigger asks again; this keeps out the one answer htmx would swap in instead: a proxy's error
// page (502, 503, 504 while the web restarts). The shop's own errors come retargeted to #messages.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "sale-status" && event.detail.xhr.status >= 500) {
      event.detail.shouldSwap = false;
    }
  });
})();
