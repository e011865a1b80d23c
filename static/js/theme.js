// Loaded before the page is drawn (not deferred), so the chosen theme applies to the first
// paint: no flash of the other theme, and no colour transitions on load.
document.documentElement.dataset.theme = localStorage.getItem("convscope-theme") ||
  (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
// The controls panel beside a scene, hidden or shown (the Controls toggle, fit.js): the
// reader's choice, kept like the theme, and applied before the first paint too.
if (localStorage.getItem("convscope-controls") === "hidden") {
  document.documentElement.dataset.controls = "hidden";
}
