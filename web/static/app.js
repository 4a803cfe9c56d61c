// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // "/" moves the focus to the search box, as on many search sites.
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

  // The filter column stays in view while the page scrolls, but only while it fits
  // the window whole: a taller one scrolls with the page (no scroll bar of its own).
  function stickyFacets() {
    var facets = document.querySelector("[data-facets]");
    var header = document.querySelector(".site-header");
    if (!facets || !header || !window.ResizeObserver) {
      return;
    }
    function update() {
      var headerHeight = getComputedStyle(header).position === "sticky" ? header.offsetHeight : 0;
      var fits = facets.scrollHeight + headerHeight + 24 <= window.innerHeight;
      facets.classList.toggle("is-sticky", fits);
    }
    new ResizeObserver(update).observe(facets);
    window.addEventListener("resize", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", stickyFacets);
  } else {
    stickyFacets();
  }
})();
