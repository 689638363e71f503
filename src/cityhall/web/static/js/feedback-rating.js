// The rating form: show only the reasons of the level chosen (without JavaScript every
// level's reasons are shown, each group labelled with its level). Works on forms inserted
// later by htmx too (the tracking page loads the form as a fragment).
(function () {
  "use strict";

  function sync(form) {
    var chosen = form.querySelector('input[name="level"]:checked');
    var level = chosen ? chosen.value : "";
    form.querySelectorAll("fieldset.reasons").forEach(function (box) {
      var mine = box.getAttribute("data-level") === level;
      box.hidden = !mine;
      box.querySelectorAll("input").forEach(function (input) { input.disabled = !mine; });
    });
  }

  function syncAll(root) {
    (root || document).querySelectorAll("form.rating-form").forEach(sync);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "level" && target.form && target.form.classList.contains("rating-form")) {
      sync(target.form);
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) { syncAll(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { syncAll(); });
  } else {
    syncAll();
  }
})();
