// The end of the sale, pushed: the events process tells every page in line at once (issue 11, rule 5).
// While its stream is open, the page's own poll of /end runs only as a safety net (data-safety-net-s);
// before the stream opens, and whenever it fails (the events process full or away), it polls at its full
// rate, so no page is ever left without being told, and none polls and listens at full rate at once.
(function () {
  "use strict";
  // The stream is public and needs no cookie: without credentials, a plain CORS origin is enough.
  htmx.createEventSource = function (url) {
    return new EventSource(url);
  };

  function listening(elt, open) {
    elt.yakkuPushOpen = open;
    if (open) {
      elt.yakkuLastAsked = Date.now();
    }
  }

  document.addEventListener("htmx:sseOpen", function (event) {
    listening(event.target, true);
  });
  document.addEventListener("htmx:sseError", function (event) {
    listening(event.target, false);
  });
  document.addEventListener("htmx:sseClose", function (event) {
    listening(event.target, false);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.hasAttribute("data-safety-net-s")) {
      return;
    }
    var every = 1000 * parseFloat(elt.getAttribute("data-safety-net-s"));
    if (elt.yakkuPushOpen && Date.now() - elt.yakkuLastAsked < every) {
      event.preventDefault(); // told by the stream; this poll would only repeat it
      return;
    }
    elt.yakkuLastAsked = Date.now();
  });
})();
