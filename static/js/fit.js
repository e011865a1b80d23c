// One screen: a scene's stage takes the room the page leaves it (app.css lays the page out as
// the viewport's height: the player, the stage, the arithmetic), and the cells of its grids
// are sized to fill that room. Only the size changes: every number is the server's.
//
// A stage is a `.fit-box[data-fit]` holding one element laid out at its natural size
// (max-content, or the box's width where it wraps). Its size grows with --cell, the cell size
// in px, but not in proportion (captions and gaps stay as they are, and a caption wider than a
// small grid sets its panel's width), so the size that fits is measured, not extrapolated.
(function () {
  "use strict";

  // px: the smallest cell whose digits can still be read; a stage that does not fit at this
  // size scrolls within its box instead, and keeps the current step's cells in view
  const MIN = 11;

  function fitting(box) {  // app.css turns fitting on where the page is one screen
    return getComputedStyle(box).getPropertyValue("--fitting").trim() === "1";
  }

  function fits(box, stage, cell, room) {
    box.style.setProperty("--cell", cell + "px");
    return stage.offsetWidth <= room[0] && stage.offsetHeight <= room[1] &&
      box.scrollWidth <= room[0] && box.scrollHeight <= room[1] &&  // nothing spills out
      inside(box, stage);
  }

  // no grid runs past the box's right edge: a row of panels that does not wrap, shrunk by a
  // grid layout as wide as the box, lets its grids overflow their panels, which the sizes
  // above do not see
  function inside(box, stage) {
    const right = box.getBoundingClientRect().right + 0.5;
    for (const grid of stage.querySelectorAll('[role="grid"]')) {
      if (grid.getBoundingClientRect().right > right) return false;
    }
    return true;
  }

  function px(text) {  // a length as app.css writes it: px or rem
    const value = parseFloat(text);
    if (!/rem\s*$/.test(text)) return value;
    return value * parseFloat(getComputedStyle(document.documentElement).fontSize);
  }

  // The largest cell (to a quarter px, found by halving) at which the stage fits in the
  // arrangement the box has now, or 0 if none from MIN up does.
  function largest(box, stage, room, max) {
    if (fits(box, stage, max, room)) return max;
    if (!fits(box, stage, MIN, room)) return 0;
    return between(box, stage, room, MIN, max);
  }

  // The largest quarter px from `lo` (which fits) up to `hi` (which does not): halving, then
  // the quarter px between the last two tried, so the answer does not depend on where the
  // search started (a played scene's shrunk cells and a fresh load's are the same size).
  function between(box, stage, room, lo, hi) {
    while (hi - lo > 0.25) {
      const mid = (lo + hi) / 2;
      if (fits(box, stage, mid, room)) lo = mid; else hi = mid;
    }
    let best = Math.floor(lo * 4) / 4;
    while (best + 0.25 < hi && fits(box, stage, best + 0.25, room)) best += 0.25;
    return best;
  }

  // The largest cell below `from` (which does not fit) at which the stage fits, found from
  // the stage's size at two cell sizes as if it grew in a straight line with the cell (a
  // secant), then checked, a quarter px down at a time: 2-4 layouts where halving took 6-8,
  // each restyling every cell (bench/controls.py, a padding slider on the 28x28 digit).
  function shrunk(box, stage, room, from) {
    const size = () => [Math.max(stage.offsetWidth, box.scrollWidth), Math.max(stage.offsetHeight, box.scrollHeight)];
    let a = from, sa = size();  // `fits` left the stage laid out at `from`
    let b = Math.max(MIN, Math.floor(from * Math.min(room[0] / sa[0], room[1] / sa[1]) * 4) / 4);
    for (let tries = 0; tries < 4 && b >= MIN; tries++) {
      if (fits(box, stage, b, room)) return b;  // a drag's last scene is fitted afresh after
      const sb = size();
      const guess = Math.min(...[0, 1].map((d) => {
        const slope = (sa[d] - sb[d]) / (a - b);
        return slope > 0 ? b - (sb[d] - room[d]) / slope : b - 0.25;
      }));
      a = b; sa = sb;
      b = Math.min(b - 0.25, Math.floor(guess * 4) / 4);
    }
    return largest(box, stage, room, Math.max(MIN, b));
  }

  // A box may offer more than one arrangement of its stage (data-layouts, e.g. the channels'
  // rows or columns, app.css keyed on data-layout, the more natural first): each is tried, and
  // a later one is kept only if its cells come out a fifth bigger than the best before it.
  // `mode`: "fresh" finds the fit again whatever was found before (a new scene that has
  // settled); "keep" keeps the last cell size if the new stage fits at it, else shrinks it
  // until it does, in the same arrangement (a slider being dragged: one layout for most
  // positions, not the dozens of a search, and the input's cells hold still).
  function fit(box, within, mode) {
    const stage = box.firstElementChild;
    if (!stage) return;
    if (!fitting(box)) {
      box.classList.remove("fitted", "overfull");
      box.style.removeProperty("--cell");
      return;
    }
    box.classList.add("fitted");
    box.classList.remove("overfull");
    const room = [box.clientWidth, box.clientHeight];
    const max = px(getComputedStyle(box).getPropertyValue("--cell-max")) || 72;
    const layouts = (box.dataset.layouts || "").split(/\s+/).filter(Boolean);
    // The same stage as last time, in the same room (a training update, a step's new scene)
    // or in a room the scene itself reshaped (`within`: the arithmetic grew or lost a line at
    // a step, the page around it did not change): the last answer stands if the stage still
    // fits, checked with one layout instead of found again with dozens, and the cells keep
    // their size from step to step instead of swelling and shrinking with the arithmetic.
    const signature = shape(box, stage, max);
    const sameRoom = last && last.room === room.join("x");
    if (mode === "keep" && last && sameRoom) {
      if (last.layout) box.dataset.layout = last.layout;
      // a stage that did not fit even at MIN is tried at MIN alone (one layout), and scrolls
      // in its box if it still does not fit
      const cell = fits(box, stage, last.cell, room) ? last.cell :
        last.cell > MIN ? shrunk(box, stage, room, last.cell) : 0;
      last = { ...last, signature, cell: cell || MIN, overfull: !cell };
      finish(box, last.cell, last.overfull);
      return;
    }
    if (mode !== "fresh" && last && last.signature === signature && (sameRoom || within)) {
      if (last.layout) box.dataset.layout = last.layout;
      if (fits(box, stage, last.cell, room) || (last.overfull && sameRoom)) {
        finish(box, last.cell, last.overfull);
        return;
      }
      // the arithmetic took some of the room: the cells shrink to fit, in the same
      // arrangement (a few layouts, not the dozens of a search over every arrangement)
      const cell = within && !last.overfull ? largest(box, stage, room, last.cell) : 0;
      if (cell) {
        last = { ...last, room: room.join("x"), cell };
        finish(box, cell, false);
        return;
      }
    }
    let best = { cell: -1, layout: null };
    for (const layout of layouts.length ? layouts : [null]) {
      if (layout) box.dataset.layout = layout;
      const cell = largest(box, stage, room, max);
      // a later arrangement must earn its place: cells a fifth bigger, or the first that fits
      if (best.cell < 0 || cell > best.cell * 1.2 || (best.cell === 0 && cell > 0)) best = { cell, layout };
    }
    if (best.layout) box.dataset.layout = best.layout;
    last = { signature, room: room.join("x"), cell: best.cell || MIN, layout: best.layout,
             overfull: !best.cell };
    finish(box, last.cell, last.overfull);
  }

  let last = null;  // the latest fit: its stage's shape, and the answer

  function finish(box, cell, overfull) {
    box.style.setProperty("--cell", cell + "px");
    box.dataset.cell = String(cell);
    if (overfull) {  // not even at MIN: the box scrolls, and shows the current step
      box.classList.add("overfull");
      keepInView(box);
    }
  }

  // What the fit depends on besides the room: the largest cell, the arrangements offered, and
  // every grid's size and caption (not the values in the cells, which a training update changes).
  function shape(box, stage, max) {
    const grids = [...stage.querySelectorAll('[role="grid"]')].map((grid) =>
      grid.childElementCount + "x" + (grid.firstElementChild ? grid.firstElementChild.childElementCount : 0));
    const captions = [...stage.querySelectorAll("figcaption, h2, .slice-name")].map((el) => el.textContent.length);
    return [max, box.dataset.layouts || "", location.pathname, grids.join(","), captions.join(",")].join("|");
  }

  // A box is fitted again when its room changes: the window resized, the controls shown or
  // hidden, projector mode, or the arithmetic below it growing a line at a new step. The last
  // is told apart by the scene around the box keeping its size.
  const rooms = new WeakMap(), outers = new WeakMap();
  const outer = (box) => { const scene = box.closest("#scene") || box.parentElement;
    return scene.clientWidth + "x" + scene.clientHeight; };
  const resized = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const box = entry.target;
      if (!box.isConnected) { resized.unobserve(box); continue; }  // a scene morphed away
      const room = box.clientWidth + "x" + box.clientHeight;
      if (rooms.get(box) === room) continue;
      const around = outer(box), within = outers.get(box) === around;
      rooms.set(box, room); outers.set(box, around);
      fit(box, within);
    }
  });

  // An overfull stage shows the part that matters for the current step: the window on the
  // input and the output being made, scrolled into the box's view (the box alone scrolls).
  function keepInView(box) {
    const room = box.getBoundingClientRect();
    const span = (cells) => {
      let top = Infinity, bottom = -Infinity, left = Infinity, right = -Infinity;
      cells.forEach((cell) => {
        const r = cell.getBoundingClientRect();
        top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom);
        left = Math.min(left, r.left); right = Math.max(right, r.right);
      });
      return { top, bottom, left, right };
    };
    const window = [...box.querySelectorAll(".cell.win")];
    const both = [...window, ...box.querySelectorAll(".cell.current")];
    if (!both.length) return;
    // the window and the output it makes, if the box can show both; else the window
    let s = span(both);
    if ((s.bottom - s.top > room.height || s.right - s.left > room.width) && window.length) s = span(window);
    if (s.bottom > room.bottom) box.scrollTop += Math.min(s.bottom - room.bottom + 8, s.top - room.top);
    else if (s.top < room.top) box.scrollTop -= room.top - s.top + 8;
    if (s.right > room.right) box.scrollLeft += Math.min(s.right - room.right + 8, s.left - room.left);
    else if (s.left < room.left) box.scrollLeft -= room.left - s.left + 8;
  }

  function fitAll(mode) {
    document.querySelectorAll(".fit-box[data-fit]").forEach((box) => {
      fit(box, false, typeof mode === "string" ? mode : undefined);
      rooms.set(box, box.clientWidth + "x" + box.clientHeight);
      outers.set(box, outer(box));
      resized.observe(box);  // again for the same box: no second observation
    });
  }

  let queued = false;
  function refit() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fitAll(); });
  }

  // the Controls toggle: the panel beside the scene, hidden or shown, remembered (theme.js)
  function syncControls() {
    const button = document.getElementById("controls-toggle");
    if (button) button.setAttribute("aria-pressed", String(document.documentElement.dataset.controls !== "hidden"));
  }
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#controls-toggle")) return;
    const root = document.documentElement;
    if (root.dataset.controls === "hidden") delete root.dataset.controls;
    else root.dataset.controls = "hidden";
    localStorage.setItem("convscope-controls", root.dataset.controls || "shown");
    syncControls();
    fitAll();
  });

  // a new scene, however it arrives (a parameter change, a pass, Back, a training update
  // swapped by app.js): cheap to watch, since a step adds only cells
  new MutationObserver((records) => {
    let stepped = null;
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.id === "scene" || node.classList.contains("fit-box")) { fitAll(); return; }
        if (node.classList.contains("current") || node.classList.contains("win")) stepped = node;
      }
    }
    const box = stepped && stepped.closest(".fit-box.overfull");
    if (box) keepInView(box);
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "pass-stage") refit();  // backprop's pass can change its grids
  });
  // projector mode changes the type and the layout, and so the room (the body's other classes,
  // playing-fast among them, change neither)
  let projector = null;
  function projectorChanged() {
    const on = document.documentElement.classList.contains("projector");
    if (on !== projector) { projector = on; refit(); }
  }
  new MutationObserver(projectorChanged).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  document.addEventListener("DOMContentLoaded", () => {
    projector = document.documentElement.classList.contains("projector");
    syncControls();
    fitAll();
  });
  window.convscope = Object.assign(window.convscope || {}, { fit: fitAll });
})();
