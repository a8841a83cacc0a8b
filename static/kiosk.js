/* Comfort only: every screen works without this file. */
(function () {
  "use strict";
  var body = document.body;
  var idleMs = Number(body.getAttribute("data-idle")) * 1000;
  var settleMs = Number(body.getAttribute("data-settle")) || 0;
  var resetUrl = body.getAttribute("data-reset-url");
  var countdown = document.querySelector(".countdown");
  var feedback = document.querySelector("form.feedback");
  var timer = null, ticker = null, deadline = 0;

  // Idle timeout: back to the welcome screen; the server keeps what was answered.
  // On the last screen the form itself is sent ("start over"), so what was typed is kept.
  function resetNow() {
    if (feedback) {
      var nav = document.createElement("input");
      nav.type = "hidden"; nav.name = "nav"; nav.value = "restart";
      feedback.appendChild(nav);
      feedback.submit();
    } else {
      window.location.replace(resetUrl);
    }
  }

  // The last seconds before the reset are counted down on screen.
  function tick() {
    var left = Math.ceil((deadline - Date.now()) / 1000);
    if (!countdown || left > Math.min(10, Math.floor(idleMs / 2000))) { return; }
    countdown.textContent = countdown.getAttribute("data-text").replace("{s}", Math.max(left, 0));
    countdown.hidden = false;
  }

  function arm() {
    if (timer) { clearTimeout(timer); }
    if (countdown) { countdown.hidden = true; }
    if (idleMs > 0) {
      deadline = Date.now() + idleMs;
      timer = setTimeout(resetNow, idleMs);
      if (countdown && !ticker) { ticker = setInterval(tick, 250); }
    }
  }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();

  // One tap, one answer: a survey screen ignores taps until it has settled (a double
  // tap on the previous screen must neither answer this one unseen nor tick a box on
  // it), and a second tap while the first is on its way is ignored.
  var sent = false, settledAt = 0;
  if (!document.querySelector("form.screen:not(.staff)")) { settleMs = 0; }
  function settle() {
    settledAt = performance.now() + settleMs;
    delete body.dataset.settled;
    setTimeout(function () { body.dataset.settled = "true"; }, settleMs);
  }
  function settling() { return performance.now() < settledAt; }
  settle();
  document.addEventListener("click", function (event) {
    if (settling()) { event.preventDefault(); event.stopPropagation(); }
  }, true);
  document.addEventListener("submit", function (event) {
    if (sent || settling()) { event.preventDefault(); return; }
    sent = true;
  });
  // Staff mode's search box filters the officers' list as staff type (the form searches without it).
  var search = document.querySelector("input[data-filter]");
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").toLowerCase();
  }
  if (search) {
    search.addEventListener("input", function () {
      var wanted = fold(search.value.trim());
      document.querySelectorAll("#" + search.getAttribute("data-filter") + " .chip").forEach(function (chip) {
        chip.hidden = wanted !== "" && fold(chip.getAttribute("data-search")).indexOf(wanted) < 0 &&
          !chip.querySelector("input").checked;
      });
    });
  }
  window.addEventListener("pageshow", function (event) {
    sent = false; arm();
    if (event.persisted) { settle(); }
  });
})();
