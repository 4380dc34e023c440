// The waiting room tells a shopper whose tab is in the background that it is their turn: the tab's title
// changes, and, if they asked for it, a notification and a short chime (the browser may refuse either).
// The server renders #sale-status with data-kind="checkout" when the turn comes; htmx swaps it in.
(function () {
  "use strict";
  var TURN_KINDS = ["checkout", "declined", "fewer_left", "interrupted"];
  var TURN_TITLE = "● Your turn — check out now · Yakku";
  var OPT_IN = "yakku.turn-alerts";
  var original = document.title.indexOf("●") === 0 ? "Flash sale · Yakku" : document.title;
  var told = false;

  function wanted() {
    try { return window.localStorage.getItem(OPT_IN) === "on"; } catch (e) { return false; }
  }

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      var audio = new Context(), tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (e) { /* autoplay refused: the title still says it */ }
  }

  function notify() {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try { new Notification("It's your turn at Yakku", { body: "Check out now: your turn is held for a few minutes." }); }
    catch (e) { /* some browsers only notify from a service worker */ }
  }

  function check() {
    var status = document.getElementById("sale-status");
    var turn = status && TURN_KINDS.indexOf(status.dataset.kind) !== -1;
    if (!turn) { document.title = original; told = false; return; }
    document.title = TURN_TITLE;
    if (!told) {
      told = true;
      if (wanted()) { chime(); notify(); }
    }
  }

  function setUpOptIn() {
    var button = document.getElementById("turn-alerts");
    if (!button) return;
    var note = document.getElementById("turn-alerts-state");
    function show() {
      var on = wanted();
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Turn alerts off" : "Alert me when it's my turn";
      if (note) note.textContent = on ? "We will chime and notify you when it's your turn." : "";
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var on = !wanted();
      try { window.localStorage.setItem(OPT_IN, on ? "on" : "off"); } catch (e) { /* private mode */ }
      if (on && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
      show();
    });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () { setUpOptIn(); check(); });
  document.addEventListener("htmx:afterSettle", function () { setUpOptIn(); check(); });
})();
