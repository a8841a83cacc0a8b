// The reply letter's Print button (the page works without it: the browser's own Print does the same).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-letter");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
});
