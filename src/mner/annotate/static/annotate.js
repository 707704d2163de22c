// mner annotate: one item at a time. Every change is sent at once (PUT with the version it was made
// on) and the page shows what the server saved; a 409 means another tab changed the item first.
"use strict";

const PALETTE = { PER: "#aa9cfc", LOC: "#ff9561", ORG: "#7aecec", MISC: "#e4e7d2", OTHER: "#e4e7d2" };
const EXTRA = ["#bfe1d9", "#feca74", "#ffeb80", "#c887fb", "#9cc9cc", "#f0a0a0", "#a0d0f0", "#d0f0a0"];
const $ = (id) => document.getElementById(id);
const itemPath = (id) => id.split("/").map(encodeURIComponent).join("/");  // ids may hold any character
const state = { project: null, items: [], item: null, selection: null, chosen: null, drawing: false, queue: Promise.resolve() };

function colour(type) {
  if (PALETTE[type]) return PALETTE[type];
  const k = state.project ? state.project.types.indexOf(type) : 0;
  return EXTRA[Math.max(k, 0) % EXTRA.length];
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function say(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

async function call(method, url, body) {
  const response = await fetch(url, { method, headers: body ? { "content-type": "application/json" } : {},
                                      body: body ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw Object.assign(new Error(data.error || `HTTP ${response.status}`), { status: response.status });
  return data;
}

// ---- loading -------------------------------------------------------------------------------------
async function loadProject() {
  state.project = await call("GET", "/v1/project");
  state.items = state.project.items;
  $("project").textContent = `· ${state.project.name}`;
  renderProgress();
  renderTypes();
}

function renderProgress() {
  $("progress").textContent = `${state.items.filter((i) => i.done).length} of ${state.items.length} done` +
    (state.project.model ? ` · pre-tagged by ${state.project.model}` : "");
}

async function openItem(id) {
  say("opening…");
  try {
    show(await call("GET", `/v1/items/${itemPath(id)}`));
    history.replaceState(null, "", `#${encodeURIComponent(id)}`);
    say(`opened ${id}`);
  } catch (err) { say(err.message, true); }
}

function show(item) {
  state.item = item;
  state.selection = null;
  if (state.chosen !== null && state.chosen >= item.entities.length) state.chosen = null;
  render();
}

// ---- saving --------------------------------------------------------------------------------------
// Changes are queued so each is computed from, and sent with, the version the previous one produced.
function change(edit, message) {
  state.queue = state.queue.then(async () => {
    const item = state.item;
    const next = edit({ tokens: [...item.tokens], entities: item.entities.map((e) => ({ ...e })), done: item.done });
    if (!next) return;
    try {
      const saved = await call("PUT", `/v1/items/${itemPath(item.id)}`, { version: item.version, ...next });
      show(saved);
      const entry = state.items.find((i) => i.id === saved.id);
      if (entry) entry.done = saved.done;
      renderProgress();
      say(`saved v${saved.version}${message ? ": " + message : ""}`);
    } catch (err) {
      say(err.status === 409 ? `not saved: ${err.message} (press r to reload)` : `not saved: ${err.message}`, true);
    }
  });
  return state.queue;
}

function undo() {
  state.queue = state.queue.then(async () => {
    try {
      show(await call("POST", `/v1/undo/${itemPath(state.item.id)}`, { version: state.item.version }));
      say(`undone: now v${state.item.version}`);
    } catch (err) { say(err.message, true); }
  });
}

// ---- editing -------------------------------------------------------------------------------------
function tagSelection(type) {
  if (state.chosen !== null) {  // retype the chosen entity
    const k = state.chosen;
    return change((s) => { s.entities[k] = { ...s.entities[k], type, score: null }; return s; }, `retyped as ${type}`);
  }
  if (!state.selection) { say("select words first (drag over them), or click an entity to retype it", true); return; }
  const [a, b] = state.selection;
  const start = Math.min(a, b), end = Math.max(a, b) + 1;
  return change((s) => {  // a new span replaces the entities it overlaps (a boundary fix is one gesture)
    s.entities = s.entities.filter((e) => e.end <= start || e.start >= end);
    s.entities.push({ start, end, type, boxes: [], score: null });
    return s;
  }, `added ${type}`);
}

function removeEntity(k) {
  state.chosen = null;
  return change((s) => { s.entities.splice(k, 1); return s; }, "entity removed");
}

function replaceToken(i, text) {
  const words = text.split(/\s+/).filter(Boolean);
  const grow = words.length - 1;  // -1: the word is deleted
  return change((s) => {
    s.tokens.splice(i, 1, ...words);
    s.entities = s.entities.flatMap((e) => {
      if (e.end <= i) return [e];
      if (e.start > i) return [{ ...e, start: e.start + grow, end: e.end + grow }];
      const end = e.end + grow;  // the edited word is inside the entity
      return end > e.start ? [{ ...e, end }] : [];
    });
    return s;
  }, `word ${i} edited`);
}

function editToken(i) {
  const span = document.querySelector(`#tokens .token[data-i="${i}"]`);
  if (!span) return;
  const input = el("input", { class: "token-edit", value: state.item.tokens[i] });
  let finished = false;
  const finish = (commit) => {
    if (finished) return;
    finished = true;
    if (commit && input.value !== state.item.tokens[i]) replaceToken(i, input.value); else render();
  };
  input.addEventListener("keydown", (ev) => {
    ev.stopPropagation();
    if (ev.key === "Enter") finish(true);
    if (ev.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
  span.replaceWith(input);
  input.focus();
  input.select();
}

function setBox(k, box) {
  return change((s) => { s.entities[k] = { ...s.entities[k], boxes: [...s.entities[k].boxes, box] }; return s; },
                "box drawn");
}

function markDoneAndNext() {
  return change((s) => { s.done = true; return s; }, "done").then(() => move(1, true));
}

function move(step, unfinished = false) {
  const at = state.items.findIndex((i) => i.id === state.item.id);
  for (let k = at + step; k >= 0 && k < state.items.length; k += step) {
    if (!unfinished || !state.items[k].done) return openItem(state.items[k].id);
  }
  say(unfinished ? "every item is done" : "no more items this way");
}

// ---- rendering -----------------------------------------------------------------------------------
function renderTypes() {
  const bar = $("types");
  bar.replaceChildren();
  state.project.types.forEach((type, k) => {
    bar.append(el("button", { class: "type", "data-type": type, style: `background:${colour(type)}`,
                              text: `${k + 1} ${type}`, title: `key ${k + 1}`, onclick: () => tagSelection(type) }));
  });
}

function tokenSpan(i) {
  const selected = state.selection && i >= Math.min(...state.selection) && i <= Math.max(...state.selection);
  const span = el("span", { class: "token" + (selected ? " selected" : ""), "data-i": String(i), text: state.item.tokens[i] });
  span.addEventListener("mousedown", (ev) => {
    ev.preventDefault();
    state.chosen = null;
    state.selection = ev.shiftKey && state.selection ? [state.selection[0], i] : [i, i];
    state.dragging = true;
    paintSelection();
  });
  span.addEventListener("mouseenter", () => { if (state.dragging) { state.selection = [state.selection[0], i]; paintSelection(); } });
  span.addEventListener("dblclick", () => editToken(i));
  return span;
}

// Selection and choice change classes only: the words stay the same elements while the mouse drags.
function paintSelection() {
  const [a, b] = state.selection ? [Math.min(...state.selection), Math.max(...state.selection)] : [-1, -2];
  document.querySelectorAll("#tokens .token").forEach((t) => {
    const i = Number(t.dataset.i);
    t.classList.toggle("selected", i >= a && i <= b);
  });
  document.querySelectorAll("#tokens mark.entity, #entities tr").forEach((m) => {
    m.classList.toggle("chosen", Number(m.dataset.k) === state.chosen);
  });
}

function render() {
  const item = state.item;
  $("item-line").textContent = `item ${item.id} (${state.items.findIndex((i) => i.id === item.id) + 1} of ${state.items.length}) · ` +
    `v${item.version} · text from ${item.origin}${item.done ? " · done" : ""}`;
  $("undo").disabled = !item.can_undo;
  const line = $("tokens");
  line.replaceChildren();
  const byStart = new Map(item.entities.map((e, k) => [e.start, k]));
  for (let i = 0; i < item.tokens.length;) {
    if (byStart.has(i)) {
      const k = byStart.get(i), e = item.entities[k];
      const mark = el("mark", { class: "entity" + (state.chosen === k ? " chosen" : ""), "data-type": e.type, "data-k": String(k),
                                style: `background:${colour(e.type)}`,
                                title: `${e.type}` + (e.score != null ? `, score ${e.score.toFixed(3)}` : ", by hand") });
      mark.addEventListener("click", (ev) => {
        const [a, b] = state.selection || [-1, -1];
        if (!ev.shiftKey && a === b) { state.chosen = k; state.selection = null; paintSelection(); }  // not the end of a drag
      });
      for (let j = e.start; j < e.end; j++) { mark.append(tokenSpan(j)); if (j + 1 < e.end) mark.append(" "); }
      mark.append(el("span", { class: "label", text: e.type }));
      line.append(mark, " ");
      i = e.end;
    } else {
      line.append(tokenSpan(i), " ");
      i += 1;
    }
  }
  if (!item.tokens.length) line.append(el("em", { text: "no text (OCR found none): double-click here to type some" }));
  renderEntities();
  renderFigures();
}

function renderEntities() {
  const body = $("entities").querySelector("tbody");
  body.replaceChildren();
  state.item.entities.forEach((e, k) => {
    const select = el("select", { "aria-label": "type", onchange: (ev) => { state.chosen = k; tagSelection(ev.target.value); } });
    for (const type of state.project.types) {
      const option = el("option", { value: type, text: type });
      if (type === e.type) option.selected = true;
      select.append(option);
    }
    body.append(el("tr", { class: state.chosen === k ? "chosen" : "", "data-k": String(k) }, [
      el("td", { text: state.item.tokens.slice(e.start, e.end).join(" ") }),
      el("td", {}, [select]),
      el("td", { text: e.score != null ? `score ${e.score.toFixed(3)}` : "by hand" }),
      el("td", { text: `${e.boxes.length} box${e.boxes.length === 1 ? "" : "es"}` }),
      el("td", {}, [el("button", { class: "draw", text: "draw box (b)", onclick: () => { state.chosen = k; startDrawing(); } }),
                    el("button", { class: "clear-boxes", text: "clear boxes",
                                   onclick: () => change((s) => { s.entities[k].boxes = []; return s; }, "boxes cleared") }),
                    el("button", { class: "remove", text: "remove (Del)", onclick: () => removeEntity(k) })]),
    ]));
  });
}

function renderFigures() {
  const figures = $("figures");
  figures.replaceChildren();
  state.item.image_urls.forEach((url, index) => {
    const img = el("img", { src: url, alt: `image ${index + 1} of item ${state.item.id}`, draggable: "false" });
    const figure = el("figure", { class: state.drawing && index === 0 ? "drawing" : "", "data-index": String(index) }, [img]);
    figures.append(figure);
    if (index !== 0) return;  // GMNER grounds entities in a post's one (first) image
    const place = () => {
      figure.querySelectorAll(".box").forEach((b) => b.remove());
      const scale = img.clientWidth / img.naturalWidth;
      state.item.entities.forEach((e) => e.boxes.forEach(([x0, y0, x1, y1]) => {
        const box = el("div", { class: "box", title: e.type, style: `left:${x0 * scale}px; top:${y0 * scale}px; ` +
                                `width:${(x1 - x0) * scale}px; height:${(y1 - y0) * scale}px; border-color:${colour(e.type)}` });
        box.append(el("span", { style: `background:${colour(e.type)}`, text: state.item.tokens.slice(e.start, e.end).join(" ") }));
        figure.append(box);
      }));
    };
    if (img.complete && img.naturalWidth) place(); else img.addEventListener("load", place);
    figure.addEventListener("mousedown", (ev) => beginBox(ev, figure, img));
  });
}

function startDrawing() {
  if (state.chosen === null) { say("click an entity first, then b to draw its box", true); return; }
  if (!state.item.image_urls.length) { say("this item has no image to draw on", true); return; }
  state.drawing = true;
  render();
  say("drag a box on the image");
}

function beginBox(ev, figure, img) {
  if (!state.drawing || state.chosen === null) return;
  ev.preventDefault();
  const rect = img.getBoundingClientRect();
  const x0 = ev.clientX - rect.left, y0 = ev.clientY - rect.top;
  const ghost = el("div", { class: "box", style: `left:${x0}px; top:${y0}px; border-color:#1a73e8` });
  figure.append(ghost);
  const moveTo = (e) => {
    const x = e.clientX - rect.left, y = e.clientY - rect.top;
    Object.assign(ghost.style, { left: `${Math.min(x, x0)}px`, top: `${Math.min(y, y0)}px`,
                                 width: `${Math.abs(x - x0)}px`, height: `${Math.abs(y - y0)}px` });
  };
  const finish = (e) => {
    document.removeEventListener("mousemove", moveTo);
    document.removeEventListener("mouseup", finish);
    state.drawing = false;
    const scale = img.naturalWidth / img.clientWidth;  // page pixels -> image pixels
    const clamp = (v, hi) => Math.round(Math.min(Math.max(v, 0), hi));
    const x1 = e.clientX - rect.left, y1 = e.clientY - rect.top;
    const box = [clamp(Math.min(x0, x1) * scale, img.naturalWidth), clamp(Math.min(y0, y1) * scale, img.naturalHeight),
                 clamp(Math.max(x0, x1) * scale, img.naturalWidth), clamp(Math.max(y0, y1) * scale, img.naturalHeight)];
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) { render(); say("box too small: drag to draw one", true); return; }
    setBox(state.chosen, box);
  };
  document.addEventListener("mousemove", moveTo);
  document.addEventListener("mouseup", finish);
}

// ---- keyboard ------------------------------------------------------------------------------------
document.addEventListener("mouseup", () => { state.dragging = false; });
document.addEventListener("keydown", (ev) => {
  if (!state.item || ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
  const number = Number.parseInt(ev.key, 10);
  if (number >= 1 && number <= state.project.types.length) tagSelection(state.project.types[number - 1]);
  else if (ev.key === "Delete" || ev.key === "Backspace") { if (state.chosen !== null) removeEntity(state.chosen); }
  else if (ev.key === "u" || (ev.key === "z" && (ev.ctrlKey || ev.metaKey))) undo();
  else if (ev.key === "ArrowRight") move(1);
  else if (ev.key === "ArrowLeft") move(-1);
  else if (ev.key === "Enter") markDoneAndNext();
  else if (ev.key === "r") openItem(state.item.id);
  else if (ev.key === "b") startDrawing();
  else if (ev.key === "e") {
    const k = state.chosen;
    if (k !== null) editToken(state.item.entities[k].start);
    else if (state.selection) editToken(state.selection[0]);
  } else if (ev.key === "Escape") { state.selection = null; state.chosen = null; state.drawing = false; render(); }
  else return;
  ev.preventDefault();
});

$("prev").addEventListener("click", () => move(-1));
$("next").addEventListener("click", () => move(1));
$("done").addEventListener("click", () => markDoneAndNext());
$("undo").addEventListener("click", () => undo());
$("reload").addEventListener("click", () => openItem(state.item.id));
$("tokens").addEventListener("dblclick", () => {
  if (state.item && !state.item.tokens.length) {
    const text = window.prompt("text of this item");
    if (text) change((s) => { s.tokens = text.split(/\s+/).filter(Boolean); return s; }, "text typed");
  }
});

(async () => {
  try {
    await loadProject();
    const wanted = decodeURIComponent(location.hash.slice(1));
    const id = state.items.some((i) => i.id === wanted) ? wanted : (state.project.resume || state.items[0].id);
    await openItem(id);
  } catch (err) { say(err.message, true); }
})();
