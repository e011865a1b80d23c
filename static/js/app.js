// ConvScope's one script: theme and projector toggles, the player (it asks htmx for one step
// at a time), the keyboard map, and the receptive-field highlight. No numbers are computed
// here: every value on screen comes from the server's engine.
(function () {
  "use strict";

  const root = document.documentElement;

  // ---- words: what this script writes for people to read, in the page's language. The
  // template puts them on <body data-texts> (base.html, translated there with the rest of
  // the page); "{name}" in one is filled in by text(key, {name: value}).
  let TEXTS = null;
  function text(key, values) {
    if (TEXTS === null) {
      try { TEXTS = JSON.parse(document.body.dataset.texts || "{}"); } catch (e) { TEXTS = {}; }
    }
    let words = key in TEXTS ? TEXTS[key] : key;
    for (const name in values || {}) words = words.split("{" + name + "}").join(String(values[name]));
    return words;
  }

  // ---- theme: the system's unless the person chose (set before the first paint by theme.js)
  function syncToggles() {
    const theme = document.getElementById("theme-toggle");
    if (theme) theme.setAttribute("aria-pressed", String(root.dataset.theme === "dark"));
    const projector = document.getElementById("projector-toggle");
    if (projector) {
      projector.setAttribute("aria-pressed", String(document.body.classList.contains("projector")));
    }
  }

  function toggleTheme() {
    root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("convscope-theme", root.dataset.theme);
    syncToggles();
  }

  // ---- URL state -------------------------------------------------------------------------
  // url with name=value set in place (or added last; null: removed), every other parameter
  // kept as written: URLSearchParams would write the lesson's "x=0,1;2,3" as "x=0%2C1%3B2%2C3"
  function setParam(url, name, value) {
    const u = new URL(url, location.href);
    const key = (pair) => decodeURIComponent(pair.split("=")[0].replace(/\+/g, " "));
    const pairs = u.search.slice(1).split("&").filter(Boolean);
    const given = value === null ? null : name + "=" + encodeURIComponent(value);
    const kept = [];
    let placed = false;
    for (const pair of pairs) {
      if (key(pair) !== name) kept.push(pair);
      else if (given !== null && !placed) { kept.push(given); placed = true; }
    }
    if (given !== null && !placed) kept.push(given);
    return u.pathname + (kept.length ? "?" + kept.join("&") : "") + u.hash;
  }

  // ---- projector mode: in the URL (projector=1), carried by every link to a page --------
  // The theme is the room's choice, kept in localStorage (theme.js); projector mode is the
  // view's, so it is in the URL, and every link to a page of the app carries it.
  function projectorOn() { return document.body.classList.contains("projector"); }

  // embed mode (embed=1: the scene and the player only, in a frame) is carried the same way
  function embedOn() { return document.body.classList.contains("embed"); }

  function carried(url) {
    const next = setParam(url, "projector", projectorOn() ? "1" : null);
    return embedOn() ? setParam(next, "embed", "1") : next;
  }

  function isPage(href) {  // a page of this app (not the API, its docs or a static file)
    return /^\/(?!\/)/.test(href) && !/^\/(api|docs|static)(\/|$|\?|#)/.test(href);
  }

  function carryProjector() {
    document.querySelectorAll("a[href]").forEach((a) => {
      const href = a.getAttribute("href");
      if (!isPage(href) || a.hasAttribute("data-open")) return;  // "Open in ConvScope": no embed
      const next = carried(href);
      if (next !== href) a.setAttribute("href", next);
    });
  }

  function showProjector(on) {
    document.body.classList.toggle("projector", on);
    root.classList.toggle("projector", on);  // the root's type size (app.css)
    const hidden = document.querySelector('#controls input[name="projector"]');
    if (on && !hidden) {
      const controls = document.getElementById("controls");
      if (controls) {
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name: "projector", value: "1" });
        controls.appendChild(input);
      }
    } else if (!on && hidden) {
      hidden.remove();
    }
    const player = document.getElementById("player");
    if (player) player.dataset.base = setParam(player.dataset.base, "projector", on ? "1" : null);
    carryProjector();
    syncToggles();
  }

  function toggleProjector() {
    showProjector(!projectorOn());
    history.replaceState(history.state, "", carried(location.href));
  }

  // Back (an htmx history restore or the browser's page cache) shows what the URL says: the
  // page's projector mode, and the theme chosen since, wherever it was chosen.
  function restoreFromUrl() {
    const flag = new URL(location.href).searchParams.get("projector");
    showProjector(["1", "true", "on"].includes(flag));
    const theme = localStorage.getItem("convscope-theme");
    if (theme) root.dataset.theme = theme;
    syncToggles();
  }

  // ---- the player ----------------------------------------------------------------------
  // A step arrives from the server as a fragment (`?step=i&prev=j`): the arithmetic and only
  // what changed since step j, each element with the id of the one it replaces. It goes
  // into the page in place: the element there takes the new one's attributes, and its
  // children the new ones' in turn, so only what differs is touched (a backprop pass's
  // stage, sent whole, changes a few cells), nodes stay (focus stays on a focused cell, a
  // colour change is a CSS transition), and nothing else is scanned. htmx.swap of the same
  // fragment replaced every element and was the costliest script in a played frame
  // (bench/playback.py; README, "Playback").
  function putInPlace(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const fresh of [...template.content.children]) {
      const old = fresh.id ? document.getElementById(fresh.id) : null;
      if (!old) continue;
      fresh.removeAttribute("hx-swap-oob");
      update(old, fresh);
    }
  }

  // The page's own, not the server's: the cells' tabindex is the roving focus (moveInGrid),
  // and a <details> opened to read a long sum stays open from step to step.
  const KEEP = new Set(["tabindex", "open"]);
  // A stage's box keeps what fit.js wrote on it (its cell size, class and arrangement) when a
  // new scene is put in place: taking it off and on again restyled every cell of the stage
  // (bench/controls.py), and fit.js sizes the new stage next anyway.
  const FIT_KEEP = new Set([...KEEP, "style", "class", "data-cell", "data-layout"]);

  function update(old, fresh) {
    if (old.isEqualNode(fresh)) return;  // one native comparison for all that is the same
    if (old.nodeName !== fresh.nodeName) {
      old.replaceWith(fresh);
    } else if (old.nodeType !== Node.ELEMENT_NODE) {
      if (old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
    } else {
      const keep = old.hasAttribute("data-fit") ? FIT_KEEP : KEEP;
      for (const { name } of [...old.attributes]) {
        if (!keep.has(name) && !fresh.hasAttribute(name)) old.removeAttribute(name);
      }
      for (const { name, value } of fresh.attributes) {
        if (!keep.has(name) && old.getAttribute(name) !== value) old.setAttribute(name, value);
      }
      const children = [...fresh.childNodes];
      if (children.length !== old.childNodes.length) old.replaceChildren(...children);
      else children.forEach((child, i) => update(old.childNodes[i], child));
    }
  }

  // Playing keeps to the frame clock: step n is due at start + n / speed, however long its
  // request and its swap took, and is shown in the first frame from half a frame before it
  // is due; a late step is shown in the next frame and the lateness made up (up to LATE_MS:
  // past that, the clock starts again). Never two steps in one frame. The requests go
  // AHEAD_S seconds of steps ahead (2 to MAX_AHEAD requests), in order.
  const HALF_FRAME_MS = 8, LATE_MS = 100, AHEAD_S = 0.1, MAX_AHEAD = 5;
  // While playing, the address follows the step at most every URL_EVERY_MS, and exactly when
  // playing stops: Chromium ignores history.replaceState past 200 calls in 10 s, and each
  // call cost more than the step's own swap.
  const URL_EVERY_MS = 250;

  const player = {
    playing: false,
    queue: null,
    wanted: null,  // the step last asked for, while its request is on its way
    run: null,  // the play going on: its player element and what aborts its requests
    urlAt: 0,  // when the address last followed the step
    urlBehind: false,  // a step was shown since
    el() { return document.getElementById("player"); },
    step() { const p = this.el(); return p ? Number(p.dataset.step) : 0; },
    steps() { const p = this.el(); return p ? Number(p.dataset.steps) : 0; },
    speed() {
      const s = document.getElementById("speed");
      return s ? Number(s.dataset.speeds.split(",")[Number(s.value)]) : 4;
    },

    stepUrl(i, previous) {
      const base = this.el().dataset.base;
      return setParam(setParam(base, "step", String(i)), "prev", String(previous));
    },

    // Ask the server for step i, seen from step `previous`: it answers with the arithmetic and
    // only the cells that changed.
    fetchStep(i, previous, signal) {
      return fetch(this.stepUrl(i, previous), { headers: { "HX-Request": "true" }, signal })
        .then((response) => {
          if (!response.ok) throw new Error("step " + i + ": HTTP " + response.status);
          return response.text();
        });
    },

    show(i, html, playing = false) {
      const p = this.el();
      if (!p) return;
      putInPlace(html);
      p.dataset.step = String(i);
      const scrubber = document.getElementById("scrubber");
      if (scrubber) {
        scrubber.value = String(i);
        scrubber.setAttribute("aria-valuetext", text("step_of", { step: i, steps: this.steps() }));
      }
      const kept = document.querySelector('#controls input[name="step"]');
      if (kept) kept.value = String(i);  // a parameter change keeps the step
      this.urlBehind = true;
      if (!playing || performance.now() - this.urlAt >= URL_EVERY_MS) this.syncUrl(p);
    },

    // The address says the step shown by `p`, if it is still the page's player and the
    // address is behind it.
    syncUrl(p = this.el()) {
      if (!this.urlBehind || !p || p !== this.el()) return;
      this.urlBehind = false;
      const step = p.dataset.step;
      const url = carried(setParam(p.dataset.base, "step", step !== "0" ? step : null));
      if (url !== location.pathname + location.search + location.hash) {
        history.replaceState(history.state, "", url);
      }
      this.urlAt = performance.now();
    },

    clamp(i) { return Math.max(0, Math.min(this.steps(), i)); },

    // One step at a time, in order: a new request waits for the one before it.
    go(i) {
      if (!this.el()) return Promise.resolve();
      const wanted = this.clamp(i);
      this.wanted = wanted;
      this.queue = (this.queue || Promise.resolve()).then(() => {
        const target = this.clamp(i), previous = this.step();
        if (target === previous) return undefined;
        return this.fetchStep(target, previous).then((html) => this.show(target, html));
      }).catch(() => undefined)  // a failed request must not stall the steps after it
        .then(() => { if (this.wanted === wanted) this.wanted = null; });
      return this.queue;
    },

    // A step forward or back from the step last asked for, not the one on screen: two quick
    // clicks while the server answers the first are two steps, not one.
    by(delta) {
      return this.go((this.wanted ?? this.step()) + delta);
    },

    // The frame time of the first frame from half a frame before `due` (at once if `due` is
    // null or the play has ended), resolved in that frame's callback, so what is changed
    // then is painted in that frame. A wait of more than 100 ms sleeps, not every frame.
    frameAt(due, live) {
      return new Promise((resolve) => {
        const tick = (t) => {
          if (due === null || !live() || t >= due - HALF_FRAME_MS) resolve(t);
          else if (due - t > 100) setTimeout(() => requestAnimationFrame(tick), due - t - 50);
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
    },

    // Steps k+1, k+2, ... are asked for ahead, each seen from the one before, and shown in
    // order, each in a frame of its own, on the frame clock (above). Pause, a parameter
    // change or a new scene (the player element replaced) ends the play and drops every
    // request in flight; a step the server refuses ends it at the step before.
    async play() {
      if (this.playing) return;
      await this.queue;
      if (this.step() >= this.steps()) await this.go(0);
      const el = this.el();
      if (!el || this.playing) return;
      const run = { el, controller: new AbortController() };
      this.run = run;
      this.playing = true;
      this.render();
      const live = () => this.run === run && this.el() === el;
      const last = this.steps(), ahead = [];
      let shown = this.step(), asked = shown, due = null;
      const askAhead = () => {
        const depth = Math.min(MAX_AHEAD, Math.max(2, Math.ceil(this.speed() * AHEAD_S) + 1));
        while (ahead.length < depth && asked < last) {
          asked += 1;
          ahead.push(this.fetchStep(asked, asked - 1, run.controller.signal).catch(() => null));
        }
      };
      try {
        askAhead();
        await this.frameAt(null, live);  // the step on screen (0, after a replay) is painted
        while (ahead.length && live()) {
          const html = await ahead.shift();
          if (html === null || !live()) break;
          const now = await this.frameAt(due, live);
          if (!live()) break;
          shown += 1;
          this.show(shown, html, true);
          const interval = 1000 / this.speed();
          due = due === null || now - due > LATE_MS ? now + interval : due + interval;
          askAhead();
        }
      } finally {
        run.controller.abort();
        if (this.run === run) {
          this.run = null;
          this.playing = false;
          this.render();
        }
        this.syncUrl(el);
      }
    },

    pause() {
      const run = this.run;
      this.run = null;
      this.playing = false;
      this.render();
      if (run) {
        run.controller.abort();
        this.syncUrl(run.el);
      }
    },
    toggle() { if (this.playing) this.pause(); else this.play(); },

    render() {
      document.body.classList.toggle("playing-fast", this.playing && this.speed() > 8);
      const button = document.querySelector('#player [data-action="play"]');
      if (!button) return;
      button.setAttribute("aria-label", text(this.playing ? "pause" : "play"));
      button.classList.toggle("playing", this.playing);
    },

    nudgeSpeed(delta) {
      const s = document.getElementById("speed");
      if (!s) return;
      s.value = String(Math.max(0, Math.min(Number(s.max), Number(s.value) + delta)));
      showSpeed();
    },
  };

  function showSpeed() {
    const s = document.getElementById("speed");
    if (!s) return;
    const value = player.speed();
    const out = document.getElementById("speed-value");
    if (out) out.textContent = value + "/s";
    player.render();  // a fast speed skips the cells' transitions
    s.setAttribute("aria-valuetext", text("steps_per_second", { speed: value }));
    const hidden = document.querySelector('#controls input[name="speed"]');
    if (hidden) hidden.value = String(value);
    const p = player.el();
    // each page has its own default speed (data-default-speed), which its URL leaves out
    const kept = p && value === Number(p.dataset.defaultSpeed) ? null : String(value);
    if (p) p.dataset.base = setParam(p.dataset.base, "speed", kept);
    history.replaceState(history.state, "", setParam(location.href, "speed", kept));
  }

  // ---- receptive field: which cells made an output, which outputs an input feeds ---------
  function geometry() {
    const stage = document.getElementById("stage");
    if (!stage || !stage.dataset.kernel) return null;  // a stage without a 2-D geometry
    const nums = (name) => stage.dataset[name].split(",").map(Number);
    return {
      stride: nums("stride"), dilation: nums("dilation"), kernel: nums("kernel"),
      out: nums("out"),
    };
  }

  function windowOf(g, r, c) { // padded-grid cells that output (r, c) reads
    const cells = [];
    for (let i = 0; i < g.kernel[0]; i++) {
      for (let j = 0; j < g.kernel[1]; j++) {
        cells.push("in-" + (r * g.stride[0] + i * g.dilation[0]) + "-" + (c * g.stride[1] + j * g.dilation[1]));
      }
    }
    return cells;
  }

  function feedsOf(g, r, c) { // outputs that padded-grid cell (r, c) feeds
    const cells = [];
    for (let oi = 0; oi < g.out[0]; oi++) {
      for (let oj = 0; oj < g.out[1]; oj++) {
        const di = r - oi * g.stride[0], dj = c - oj * g.stride[1];
        if (di >= 0 && dj >= 0 && di % g.dilation[0] === 0 && dj % g.dilation[1] === 0 &&
            di / g.dilation[0] < g.kernel[0] && dj / g.dilation[1] < g.kernel[1]) {
          cells.push("out-" + oi + "-" + oj);
        }
      }
    }
    return cells;
  }

  function clearMarks() {
    document.querySelectorAll(".rf, .hl").forEach((el) => el.classList.remove("rf", "hl"));
  }

  function mark(target) {
    clearMarks();
    if (!target || !target.classList) return;
    if (target.dataset.tap !== undefined && (target.closest(".arith") || target.closest('[data-grid="input"]') ||
        target.closest('[data-grid="kernel"]') || target.closest('[data-grid="flipped"]'))) {
      document.querySelectorAll('[data-tap="' + target.dataset.tap + '"]').forEach((el) => el.classList.add("hl"));
    }
    const grid = target.closest("[data-grid]");
    const g = geometry();
    if (!grid || !g || !target.classList.contains("cell")) return;
    const r = Number(target.dataset.r), c = Number(target.dataset.c);
    let ids = [];
    if (grid.dataset.grid === "output") ids = windowOf(g, r, c);
    if (grid.dataset.grid === "input") ids = feedsOf(g, r, c);
    if (ids.length) target.classList.add("rf");
    ids.forEach((id) => { const el = document.getElementById(id); if (el) el.classList.add("rf"); });
  }

  // ---- editing a value in place: it goes into the values box, which asks for the scene --
  function editableBox(cell) {
    const grid = cell.closest("[data-grid]");
    // a pixel of a picture has no number to edit in place: its values box has them
    if (!grid || cell.classList.contains("ghost") || grid.classList.contains("picture")) return null;
    const name = { input: "x", kernel: "w" }[grid.dataset.grid];
    return name ? document.getElementById(name + "-values") : null;
  }

  function startEdit(cell) {
    const box = editableBox(cell);
    if (!box || cell.querySelector("input")) return;
    const stage = document.getElementById("stage");
    const inputGrid = cell.closest('[data-grid="input"]') !== null;
    const pad = inputGrid && stage ? stage.dataset.pad.split(",").map(Number) : [0, 0];
    const r = Number(cell.dataset.r) - pad[0], c = Number(cell.dataset.c) - pad[1];
    const editor = document.createElement("input");
    Object.assign(editor, { type: "number", step: "any", value: cell.textContent.trim() });
    editor.className = "cell-editor";
    editor.setAttribute("aria-label", text(inputGrid ? "input_cell" : "kernel_cell", { row: r + 1, column: c + 1 }));
    const original = cell.textContent;
    cell.textContent = "";
    cell.appendChild(editor);
    editor.focus();
    editor.select();
    let done = false;
    const finish = (commit) => {
      if (done) return;
      done = true;
      const value = editor.value.trim();
      cell.textContent = original;
      if (!commit || value === "" || !Number.isFinite(Number(value)) || value === original.trim()) {
        cell.focus();
        return;
      }
      const rows = box.value.trim().split(/\n|;/).map((row) => row.trim().split(/[\s,]+/));
      if (!rows[r] || rows[r][c] === undefined) return;
      rows[r][c] = value;
      box.value = rows.map((row) => row.join(" ")).join("\n");
      box.dispatchEvent(new Event("change", { bubbles: true }));
    };
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); finish(false); }
      event.stopPropagation();
    });
    editor.addEventListener("blur", () => finish(true));
  }

  document.addEventListener("dblclick", (event) => {
    const cell = event.target.closest(".cell");
    if (cell) startEdit(cell);
  });

  // ---- drawing a signal on the 1D page's Input plot ------------------------------------
  // A drag sets the sample under the pointer to the height under it; letting go writes the
  // values into the Values box, which asks the server for the new scene.
  let drawing = null;

  function plotPoint(svg, event) {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
    const d = svg.dataset;
    const t = Number(d.t0) + (point.x - Number(d.left)) / (Number(d.right) - Number(d.left)) * (Number(d.t1) - Number(d.t0));
    const y = Number(d.y0) + (Number(d.bottom) - point.y) / (Number(d.bottom) - Number(d.top)) * (Number(d.y1) - Number(d.y0));
    return { t: Math.round(t), y: Math.round(y * 100) / 100, x: point.x, py: point.y };
  }

  document.addEventListener("pointerdown", (event) => {
    const svg = event.target.closest("#plot-input");
    if (!svg || !document.getElementById("x-values")) return;
    player.pause();
    drawing = { svg, values: svg.dataset.values.split(",").map(Number), points: [] };
    svg.setPointerCapture(event.pointerId);
    draw(event);
  });

  // Pointer events arrive a few samples apart on a fast drag: every sample between two of
  // them gets the height on the straight line joining them, so the stroke leaves no comb.
  function draw(event) {
    if (!drawing) return;
    const p = plotPoint(drawing.svg, event);
    p.t = Math.max(0, Math.min(drawing.values.length - 1, p.t));  // over the padding: the edge
    const last = drawing.last || p;
    const span = Math.abs(p.t - last.t);
    for (let k = 0; k <= span; k++) {
      const t = last.t + Math.sign(p.t - last.t) * k;
      const y = span ? last.y + (p.y - last.y) * k / span : p.y;
      drawing.values[t] = Math.round(y * 100) / 100;
    }
    drawing.last = p;
    drawing.points.push(p.x + "," + p.py);
    let draft = drawing.svg.querySelector(".draft");
    if (!draft) {
      draft = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      draft.setAttribute("class", "draft");
      drawing.svg.appendChild(draft);
    }
    draft.setAttribute("points", drawing.points.join(" "));
  }

  document.addEventListener("pointermove", draw);
  document.addEventListener("pointerup", () => {
    if (!drawing) return;
    const box = document.getElementById("x-values");
    box.value = drawing.values.map(String).join(" ");
    drawing = null;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // ---- training on the backprop page: one gradient-descent update per request ----------
  // The URL's epoch says how many updates were applied; each request asks for one more and
  // swaps the scene (weights, loss plot, gradients), until the loss converges or Pause.
  const trainer = {
    running: false,
    label() {
      const button = document.getElementById("train");
      if (!button) return;
      button.textContent = text(this.running ? "pause" : "train");
      button.setAttribute("aria-pressed", String(this.running));
    },
    async run() {
      this.running = true;
      this.label();
      while (this.running) {
        const button = document.getElementById("train");
        const scene = document.getElementById("scene");
        if (!button || !scene || scene.dataset.converged === "true" ||
            scene.dataset.diverged === "true") break;
        const url = carried(button.dataset.next);
        const html = await fetch(url, { headers: { "HX-Request": "true" } }).then((r) => r.text());
        if (!this.running) break;
        htmx.swap("#scene", html, { swapStyle: "outerHTML" });
        history.replaceState(history.state, "", url);
        this.label();
        await new Promise((resolve) => requestAnimationFrame(resolve));
        await new Promise((resolve) => setTimeout(resolve, 80));
      }
      this.running = false;
      this.label();
    },
  };

  // ---- events (delegated, so they survive htmx swaps) -----------------------------------
  document.addEventListener("click", (event) => {
    // the language switcher goes to the address the page has come to (an edit or a step
    // since it was drawn moved it), in its own language
    const switcher = event.target.closest("#lang-switch");
    if (switcher) switcher.setAttribute("href", setParam(location.href, "lang", switcher.getAttribute("hreflang")));
    const button = event.target.closest("button");
    if (!button) return;
    if (button.id === "theme-toggle") return toggleTheme();
    if (button.id === "keys-toggle") return toggleHelp();
    if (button.id === "projector-toggle" || button.classList.contains("exit-projector")) return toggleProjector();
    if (button.id === "train") { if (trainer.running) trainer.running = false; else trainer.run(); return; }
    const action = button.dataset.action;
    if (!action) return;
    if (action === "play") return player.toggle();
    player.pause();
    if (action === "start") player.go(0);
    if (action === "end") player.go(player.steps());
    if (action === "back") player.by(-1);
    if (action === "forward") player.by(1);
  });

  document.addEventListener("input", (event) => {
    if (event.target.id === "scrubber") { player.pause(); player.go(Number(event.target.value)); }
    if (event.target.id === "speed") showSpeed();
  });

  document.addEventListener("mouseover", (event) => mark(event.target.closest("[data-tap], .cell")));
  document.addEventListener("focusin", (event) => mark(event.target.closest("[data-tap], .cell")));
  document.addEventListener("mouseleave", clearMarks);

  function moveInGrid(cell, key) {
    const grid = cell.closest("[data-grid]");
    let r = Number(cell.dataset.r), c = Number(cell.dataset.c);
    if (key === "ArrowUp") r -= 1; else if (key === "ArrowDown") r += 1;
    else if (key === "ArrowLeft") c -= 1; else if (key === "ArrowRight") c += 1; else return false;
    const next = grid.querySelector('[data-r="' + r + '"][data-c="' + c + '"]');
    if (next) { cell.tabIndex = -1; next.tabIndex = 0; next.focus(); }
    return true;
  }

  // ---- the tour: PageDown / PageUp follow its Next / Previous stop links -----------------
  function tourMove(rel) {
    const tour = document.getElementById("tour");
    if (!tour) return false;  // not in a tour: the keys step the player
    const link = tour.querySelector('a[rel="' + rel + '"]');
    if (link) location.assign(link.href);  // none past the last stop: nothing happens
    return true;
  }

  // ---- the blank screen (B): black until any key or click -------------------------------
  function overlay(id, build) {  // made on first use, and again after an htmx history restore
    let dialog = document.getElementById(id);
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = id;
      build(dialog);
      document.body.appendChild(dialog);
    }
    return dialog;
  }

  function blankScreen() {
    return overlay("blank", (dialog) => {
      dialog.className = "blank";
      dialog.setAttribute("aria-label", text("blank"));
      dialog.addEventListener("click", () => dialog.close());
    });
  }

  function isOpen(id) { const d = document.getElementById(id); return Boolean(d && d.open); }

  function blank() {
    player.pause();
    blankScreen().showModal();
  }

  // ---- the keymap: one table, read by the key handler and written out by the help (?) ---
  // Each entry: the values of event.key it answers, how the help names them, what it does,
  // and, for the player's keys, that it needs a player (else the key keeps its native use,
  // e.g. PageDown scrolls the lesson).
  function stepBy(delta) { player.pause(); player.by(delta); }
  const hasPlayer = () => Boolean(player.el());
  const KEYMAP = [
    { keys: [" "], names: ["space"], does: "key_play", when: hasPlayer, run: () => player.toggle() },
    { keys: ["ArrowRight"], names: ["→"], does: "key_forward", when: hasPlayer, run: () => stepBy(1) },
    { keys: ["ArrowLeft"], names: ["←"], does: "key_back", when: hasPlayer, run: () => stepBy(-1) },
    { keys: ["Home"], names: ["Home"], does: "key_home", when: hasPlayer, run: () => { player.pause(); player.go(0); } },
    { keys: ["End"], names: ["End"], does: "key_end", when: hasPlayer, run: () => { player.pause(); player.go(player.steps()); } },
    { keys: ["+", "="], names: ["+"], does: "key_faster", when: hasPlayer, run: () => player.nudgeSpeed(1) },
    { keys: ["-", "_"], names: ["−"], does: "key_slower", when: hasPlayer, run: () => player.nudgeSpeed(-1) },
    { keys: ["PageDown"], names: ["page_down"], does: "key_pagedown",
      when: () => Boolean(document.getElementById("tour")) || hasPlayer(), run: () => tourMove("next") || stepBy(1) },
    { keys: ["PageUp"], names: ["page_up"], does: "key_pageup",
      when: () => Boolean(document.getElementById("tour")) || hasPlayer(), run: () => tourMove("prev") || stepBy(-1) },
    { keys: ["p", "P"], names: ["P"], does: "key_projector", run: toggleProjector },
    { keys: ["b", "B", "."], names: ["B", "."], does: "key_blank", run: blank },
    { keys: ["?"], names: ["?"], does: "key_help", run: () => toggleHelp() },
  ];

  function helpDialog() {
    return overlay("keys-help", (dialog) => {
      dialog.className = "keys-help";
      dialog.setAttribute("aria-labelledby", "keys-help-title");
      const make = (tag, text, props) => Object.assign(document.createElement(tag), { textContent: text || "" }, props);
      dialog.appendChild(make("h2", text("keys"), { id: "keys-help-title" }));
      const table = make("table");
      const head = table.createTHead().insertRow();
      head.append(make("th", text("key"), { scope: "col" }), make("th", text("what_it_does"), { scope: "col" }));
      const body = table.createTBody();
      KEYMAP.forEach((entry) => {
        const row = body.insertRow();
        row.dataset.keys = entry.keys.join(" ");
        const names = make("th", "", { scope: "row" });
        entry.names.forEach((name, i) => {
          if (i) names.append(text("or"));
          names.appendChild(make("kbd", text(name)));
        });
        row.append(names, make("td", text(entry.does)));
      });
      dialog.appendChild(table);
      dialog.appendChild(make("p", text("keys_note"), { className: "note" }));
      const close = make("button", text("close"), { type: "button", className: "close" });
      close.addEventListener("click", () => dialog.close());
      dialog.appendChild(close);
    });
  }

  function toggleHelp() {
    const dialog = helpDialog();
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  const SLIDER_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];

  // A text field takes every key (Escape leaves it); a checkbox reached with Tab keeps Space.
  function typingIn(el) {
    return el.isContentEditable || el.matches("textarea, select[multiple], " +
      "input:not([type=range]):not([type=radio]):not([type=checkbox]):not([type=button])" +
      ":not([type=submit]):not([type=reset]):not([type=color]):not([type=file])");
  }

  // Was the focused element reached with the keyboard (Tab, the arrows in a grid) or with the
  // pointer? A click hands the keys back to the player; keyboard focus keeps a grid's arrows.
  let pointing = false, focusByPointer = false;
  document.addEventListener("pointerdown", (event) => {
    pointing = true;
    if (event.target === document.activeElement) focusByPointer = true;  // dragged once focused
  }, true);
  document.addEventListener("focusin", () => { focusByPointer = pointing; }, true);

  // In the capture phase, before the focused control's own default (a select or a radio
  // changing on →, a button pressed by Space, the page scrolling on PageDown).
  window.addEventListener("keydown", (event) => {
    pointing = false;
    if (isOpen("blank")) {  // any key brings the screen back, and does nothing else
      event.preventDefault();
      event.stopPropagation();
      if (!event.repeat) blankScreen().close();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const target = event.target;
    if (isOpen("keys-help")) {
      if (event.key === "?" || event.key === "Escape") { event.preventDefault(); helpDialog().close(); }
      return;  // Tab and the Close button work as usual inside the help
    }
    if (typingIn(target)) return;  // Escape: below, after the field's own handlers
    if (target.matches('[role="gridcell"]')) {
      if (!focusByPointer && moveInGrid(target, event.key)) { event.preventDefault(); return; }
      if ((event.key === "Enter" || event.key === "F2") && editableBox(target)) {
        event.preventDefault();
        startEdit(target);
        return;
      }
    }
    if (event.key === " " && target.matches("input[type=checkbox]") && !focusByPointer) return;
    if (target.matches(".param-slider") && !focusByPointer) {  // reached with Tab: a slider
      if (SLIDER_KEYS.includes(event.key)) return;  // its own: the scene follows (below)
      if (event.key === "Escape") { event.preventDefault(); target.blur(); return; }
    }
    const entry = KEYMAP.find((e) => e.keys.includes(event.key));
    if (!entry || (entry.when && !entry.when())) return;
    event.preventDefault();
    event.stopPropagation();
    entry.run();
  }, true);

  // Space's default on a button is a click on key up: the keymap took its key down already.
  window.addEventListener("keyup", (event) => {
    if (event.key === " " && event.target.matches("button, [role=button], summary") && hasPlayer() &&
        !isOpen("keys-help")) event.preventDefault();
  }, true);

  document.addEventListener("keydown", (event) => {  // a cell's editor handles its own Escape
    if (event.key === "Escape" && typingIn(event.target)) event.target.blur();
  });

  // ---- projector strip: − and + beside stride, padding and dilation ---------------------
  // A step rewrites its field as typing would (each axis one more or one less, never below
  // the field's minimum), and the field's own htmx request follows, so the scene, the URL
  // and the form change exactly as they do for a typed value. A padding given by name starts
  // from the padding the engine made of it (the player's data-padding; valid is none).
  function stepField(button) {
    const field = document.getElementById(button.getAttribute("aria-controls"));
    if (!field) return;
    const text = field.value.trim();
    const made = (document.getElementById("player") || { dataset: {} }).dataset.padding;
    const from = /^\d+(\s*,\s*\d+)*$/.test(text) ? text : text === "valid" ? "0" : made;
    if (!from) return;  // not whole numbers, and nothing the engine made of them
    const delta = Number(button.dataset.delta), min = Number(field.dataset.min);
    const next = from.split(",").map((v) => Math.min(99, Math.max(min, Number(v) + delta)));
    const value = next.every((v) => v === next[0]) ? String(next[0]) : next.join(",");
    if (value === text) return;
    field.value = value;
    delete field.dataset.live;  // a step is one change: its own history entry
    field.dispatchEvent(new Event("change", { bubbles: true }));
    syncSliders();
  }

  // ---- sliding controls: a slider for stride, padding and dilation ----------------------
  // A slider writes its value into its field (every axis the same) and the field's own htmx
  // request follows, as for a typed value, at each position a drag passes (its `input`). The
  // requests of the sliding controls wait for the one before (hx-sync "queue last", in
  // templates/macros.html): while one is on its way only the newest waits, the positions
  // between are dropped unsent, and no answer can arrive after a newer one. A drag is one
  // history entry: its first position pushes one, and the scenes it shows replace the
  // address (Chromium ignores history.replaceState past 200 calls in 10 s; there is at most
  // one call per scene shown, not one per position).
  const fieldOf = (slider) => document.getElementById(slider.getAttribute("aria-controls"));
  let sliding = null;  // the slider being moved, until its change (the drag's end)

  function slide(slider) {
    const field = fieldOf(slider);
    if (!field || field.value.trim() === slider.value) return;
    if (sliding !== slider) {
      sliding = slider;
      // as htmx pushes: the entry left is marked as its own, so Back restores it
      history.replaceState({ htmx: true }, "", location.href);
      history.pushState({ htmx: true }, "", location.href);
    }
    field.value = slider.value;
    field.dataset.live = "1";
    slider.setAttribute("aria-valuetext", slider.value);
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // Each slider stands where its field says: its largest axis ("2,1" at 2), a padding by name
  // where the engine put it (the player's data-padding; valid is none), and says the field's
  // text to a screen reader.
  function syncSliders() {
    const made = (document.getElementById("player") || { dataset: {} }).dataset.padding;
    document.querySelectorAll(".param-slider").forEach((slider) => {
      const field = fieldOf(slider);
      if (!field) return;
      const text = field.value.trim();
      const numbers = /^\d+(\s*,\s*\d+)*$/.test(text) ? text : text === "valid" ? "0" :
        field.name === "padding" && made ? made : null;
      if (numbers !== null) {
        const value = String(Math.max(...numbers.split(",").map(Number)));
        if (slider.value !== value) slider.value = value;
      }
      slider.setAttribute("aria-valuetext", numbers === null || numbers === text ? text : text + " (" + numbers + ")");
    });
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches(".param-slider")) slide(event.target);
  });
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches(".param-slider")) { if (sliding === target) sliding = null; return; }
    if (event.isTrusted && target.dataset.live) delete target.dataset.live;  // typed: pushed
    if (event.isTrusted && target.closest(".stepper")) syncSliders();
  }, true);
  const requester = (event) => event.detail.requestConfig && event.detail.requestConfig.elt;
  document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
    const elt = requester(event);
    if (elt && elt.dataset && elt.dataset.live && event.detail.history.type === "push") {
      event.detail.history.type = "replace";
    }
  });
  // the ranges move with the input and the kernel (app/web/controls.py)
  document.addEventListener("convscope:ranges", (event) => {
    for (const name of ["stride", "padding", "dilation"]) {
      const slider = document.getElementById(name + "-slider"), range = event.detail[name];
      if (!slider || !Array.isArray(range)) continue;
      const [low, high] = range;
      if (slider.min !== String(low)) slider.min = String(low);
      if (slider.max !== String(high)) slider.max = String(high);
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "scene") syncSliders();
  });
  document.addEventListener("DOMContentLoaded", syncSliders);

  // A scene from the sliding controls is put in place (update, above) rather than swapped
  // whole: of a 28x28 digit's ~1,500 cells, a new stride changes the output's and the
  // window's, and htmx's outerHTML swap matched every id in the new scene against the old one
  // (bench/controls.py; README, "Sliding controls"). Its cells are then sized again: while a
  // slider is dragged they keep their size if the stage still fits (fit.js, "keep"), and the
  // drag's last scene is fitted afresh.
  htmx.defineExtension("scene-morph", {
    handleSwap(style, target, fragment) {
      if (style !== "scene-morph" || target.id !== "scene") return false;
      const fresh = [...fragment.children].find((el) => el.id === "scene");
      if (!fresh) return false;
      update(target, fresh);
      // a range input shows its value property once it has been moved, not its attribute
      target.querySelectorAll("input[type=range]").forEach((input) => {
        if (input.hasAttribute("value")) input.value = input.getAttribute("value");
      });
      if (window.convscope.fit) window.convscope.fit(swappingLive ? "keep" : "fresh");
      if (swappingLive) refitLater();
      return [target];
    },
  });

  let swappingLive = false;  // the scene being swapped in answers a slider's position
  document.addEventListener("htmx:beforeSwap", (event) => {
    const elt = requester(event);
    swappingLive = Boolean(elt && elt.dataset && elt.dataset.live);
  });

  let refitTimer = null;
  function refitLater() {  // the drag's last scene, fitted afresh once the drag has stopped
    clearTimeout(refitTimer);
    refitTimer = setTimeout(() => {
      if (sliding || document.querySelector("#controls .htmx-request")) return refitLater();
      if (window.convscope.fit) window.convscope.fit("fresh");
    }, 300);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.step[data-delta]");
    if (button) stepField(button);
  });

  // ---- a picture of one's own (2D): it goes into the view the address says now ------------
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id === "upload") form.action = setParam("/2d/upload" + location.search, "step", null);
  });

  // ---- values the page cannot use: each message beside its field -----------------------
  // The scene lists them (#field-errors, by field); the form's slot for each field shows its
  // message, and the field says it is invalid, until a scene without that error arrives.
  function showFieldErrors() {
    const messages = {};
    document.querySelectorAll("#field-errors [data-for]").forEach((item) => {
      messages[item.dataset.for] = item.textContent;
    });
    document.querySelectorAll(".field-error[data-for]").forEach((slot) => {
      const name = slot.dataset.for, message = messages[name] || "";
      slot.textContent = message;
      document.querySelectorAll('#controls [name="' + name + '"], [form="controls"][name="' + name + '"]').forEach((field) => {
        if (message) {
          field.setAttribute("aria-invalid", "true");
          field.setAttribute("aria-describedby", slot.id);
        } else {
          field.removeAttribute("aria-invalid");
          field.removeAttribute("aria-describedby");
        }
      });
    });
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target && event.detail.target.id === "scene") showFieldErrors();
  });

  // a parameter change swaps the scene: the player there starts paused, and no step of the
  // old scene is shown once the change is asked for (the request carries the step shown)
  const forScene = (event) => event.detail.target && event.detail.target.id === "scene";
  document.addEventListener("htmx:beforeRequest", (event) => { if (forScene(event)) player.pause(); });
  document.addEventListener("htmx:beforeSwap", (event) => { if (forScene(event)) player.pause(); });
  // leaving the page: its history entry says the step shown (playing updates it sparingly)
  window.addEventListener("pagehide", () => player.syncUrl());

  // every htmx request (a parameter change, a backprop pass) says the projector mode shown now
  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.path = carried(event.detail.path);
    if (event.detail.parameters) delete event.detail.parameters.projector;
  });
  // the address the server pushes (its view's) keeps embed=1 in a frame
  document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
    event.detail.history.path = carried(event.detail.history.path);
  });
  document.addEventListener("htmx:afterSettle", carryProjector);

  // ---- the export menu (share.html): the page's script, and the embed snippet ------------
  // The address shown now, without embed: what "Open in ConvScope", the scripts and the
  // snippet are of (the player's step included).
  function here() { return setParam(location.href, "embed", null); }

  function copyText(text) {  // navigator.clipboard needs a secure context (https, localhost)
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function say(menu, ok) {
    const status = menu.querySelector(".share-status");
    if (status) status.textContent = ok ? status.dataset.copied : status.dataset.failed;
  }

  function snippet() {
    const src = new URL(setParam(here(), "embed", "1"), location.href).href;
    return `<iframe src="${src}" width="800" height="450" title="ConvScope" ` +
      `style="border: 0" allow="clipboard-write"></iframe>`;
  }

  document.addEventListener("click", (event) => {
    const open = event.target.closest("a[data-open]");
    if (open) open.href = here();
    const menu = event.target.closest(".share");
    if (!menu) return;
    const code = event.target.closest(".copy-code");
    if (code) {
      fetch(setParam(here(), "format", code.dataset.format))
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.statusText))))
        .then(copyText).then(() => say(menu, true), () => say(menu, false));
    } else if (event.target.closest(".copy-embed")) {
      copyText(snippet()).then(() => say(menu, true), () => say(menu, false));
    }
  });
  document.addEventListener("toggle", (event) => {
    const item = event.target;
    if (item.classList && item.classList.contains("embed-item") && item.open) {
      const area = item.querySelector("textarea");
      if (area) area.value = snippet();
    }
  }, true);
  document.addEventListener("htmx:historyRestore", () => { player.pause(); restoreFromUrl(); });
  window.addEventListener("pageshow", (event) => { if (event.persisted) restoreFromUrl(); });

  carryProjector();
  document.addEventListener("DOMContentLoaded", syncToggles);
  window.convscope = { player };
})();
