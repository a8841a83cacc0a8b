/* Comfort only: every screen works without this file. */
(function () {
  "use strict";
  var body = document.body;
  var idleMs = Number(body.getAttribute("data-idle")) * 1000;
  var resetUrl = body.getAttribute("data-reset-url");
  var timer = null;

  // Idle timeout: back to the welcome screen; the server keeps what was answered.
  function arm() {
    if (timer) { clearTimeout(timer); }
    if (idleMs > 0) { timer = setTimeout(function () { window.location.replace(resetUrl); }, idleMs); }
  }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();

  // One post per screen: a second tap while the first is on its way is ignored.
  var sent = false;
  document.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    sent = true;
  });
  window.addEventListener("pageshow", function () { sent = false; arm(); });
})();
