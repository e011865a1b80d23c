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
