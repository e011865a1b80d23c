// /network: live training asks for its next slice (the poller, #net-poll) while a person may
// click (Pause, a digit, a tab, a field). The newest request for the scene wins, without
// aborting anything (an aborted htmx request logs an error): each request for #scene takes
// a number, a click's a new one; an answer that is not the newest's is not put in place, and
// a poll does not start while a click's request is on its way.
(function () {
  "use strict";
  let newest = 0, clicks = 0;
  const forScene = (detail) => detail.target && detail.target.id === "scene";
  document.addEventListener("htmx:beforeRequest", (event) => {
    const detail = event.detail;
    if (!forScene(detail)) return;
    if (detail.elt.id === "net-poll") {
      if (clicks) { event.preventDefault(); return; }  // the click's answer says what follows
    } else {
      newest += 1;
      clicks += 1;
      detail.xhr.netClick = true;
    }
    detail.xhr.netNumber = newest;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.xhr && event.detail.xhr.netClick) clicks -= 1;
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr && "netNumber" in xhr && xhr.netNumber !== newest) event.detail.shouldSwap = false;
  });
})();

// The drawing pad (#pad): press and drag paints pixels 16 (with Shift: 0); letting go sends
// the drawing (draw=, 64 values row by row) for the scene, as a link would. Enter or Space on
// a pixel turns it on or off and sends at once. Clear sets every pixel to 0 and sends.
(function () {
  "use strict";
  let painting = null;  // the value being painted while the pointer is down
  const pad = () => document.getElementById("pad");
  const paint = (cell, value) => {
    cell.dataset.v = String(value);
    cell.className = "px v" + value;
    cell.setAttribute("aria-label", cell.getAttribute("aria-label").replace(/\d+$/, String(value)));
  };
  const send = () => {
    const p = pad();
    if (!p || !window.htmx) return;
    const values = [...p.querySelectorAll(".px")].map((c) => c.dataset.v).join(",");
    const base = p.dataset.base;
    const url = base + (base.endsWith("?") ? "" : "&") + "draw=" + values;
    window.htmx.ajax("GET", url, { target: "#scene", swap: "outerHTML" });
  };
  document.addEventListener("pointerdown", (event) => {
    const cell = event.target.closest && event.target.closest("#pad .px");
    if (!cell) return;
    event.preventDefault();
    painting = event.shiftKey ? 0 : 16;
    paint(cell, painting);
  });
  document.addEventListener("pointerover", (event) => {
    if (painting === null) return;
    const cell = event.target.closest && event.target.closest("#pad .px");
    if (cell) paint(cell, painting);
  });
  document.addEventListener("pointerup", () => {
    if (painting === null) return;
    painting = null;
    send();
  });
  document.addEventListener("click", (event) => {
    if (event.target.id === "pad-clear") {
      const p = pad();
      if (!p) return;
      p.querySelectorAll(".px").forEach((c) => paint(c, 0));
      send();
    }
  });
  document.addEventListener("keydown", (event) => {
    const cell = event.target.closest && event.target.closest("#pad .px");
    if (!cell || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    paint(cell, cell.dataset.v === "0" ? 16 : 0);
    send();
  });
})();
