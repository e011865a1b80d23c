// The export menu (templates/share.html): each link asks for the page's current address (the
// player and htmx change it) in its format, as a download.
(function () {
  "use strict";
  function point(link) {
    const params = new URLSearchParams(location.search);
    params.delete("prev");
    params.set("format", link.dataset.format);
    params.set("download", "1");
    link.href = location.pathname + "?" + params.toString();
  }
  document.addEventListener("toggle", (event) => {
    if (event.target.id === "share" && event.target.open) {
      event.target.querySelectorAll("a[data-format]").forEach(point);
    }
  }, true);
  ["pointerdown", "click", "focusin"].forEach((type) => {
    document.addEventListener(type, (event) => {
      const link = event.target.closest && event.target.closest("#share a[data-format]");
      if (link) point(link);
    }, true);
  });
})();
