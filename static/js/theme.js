// Loaded before the page is drawn (not deferred), so the chosen theme applies to the first
// paint: no flash of the other theme, and no colour transitions on load.
document.documentElement.dataset.theme = localStorage.getItem("convscope-theme") ||
  (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
