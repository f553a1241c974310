// KetaCare's own behaviour, loaded from our origin so the Content-Security-Policy can forbid
// inline script: print buttons, the observation countdown, and htmx swaps of refusals.
(function () {
  "use strict";

  function startCountdown(box) {
    if (box.dataset.started) return;
    box.dataset.started = "1";
    var left = +box.dataset.remaining;
    var clock = box.querySelector("[data-clock]");
    if (!left || !clock) return;
    var timer = setInterval(function () {
      left -= 1;
      if (!document.body.contains(box)) { clearInterval(timer); return; }
      if (left <= 0) { clock.textContent = "complete"; box.classList.add("done"); clearInterval(timer); return; }
      var m = Math.floor(left / 60), s = left % 60;
      clock.textContent = m + ":" + (s < 10 ? "0" : "") + s + " left";
    }, 1000);
  }

  function enhance(root) {
    root.querySelectorAll("[data-remaining]").forEach(startCountdown);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { event.preventDefault(); window.print(); }
  });

  // A refusal (422) or a stale version (409) carries a form with its errors: show it in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if ((status === 422 || status === 409) && target && target.closest("[data-swap-refusals]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
