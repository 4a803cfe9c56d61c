// Progressive enhancement only: every page works without this file.
// "/" moves the focus to the search box, as on many search sites.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      return;
    }
    var input = document.querySelector("[data-search-input]");
    if (input) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
})();
