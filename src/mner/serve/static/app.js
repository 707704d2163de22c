// The mner page: sends the form to POST /v1/predict (multipart, so images go as uploads) and
// draws the answer: entities highlighted by type, the score on hover, boxes for grounded models.
"use strict";

// displaCy's palette for the common types; other types get a colour from their name
const COLOURS = { PER: "#aa9cfc", LOC: "#ff9561", ORG: "#7aecec", MISC: "#e4e7d2", OTHER: "#e4e7d2" };

function colourOf(type) {
  if (COLOURS[type]) return COLOURS[type];
  let hash = 0;
  for (const ch of type) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360}, 70%, 75%)`;
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function formatScore(score) {
  return score === null || score === undefined ? "no score" : `score ${score.toFixed(3)}`;
}

function renderPost(post) {
  // words joined by spaces; each entity [start, end) becomes one <mark>
  const container = document.getElementById("result");
  container.replaceChildren();
  const byStart = new Map(post.entities.map((e) => [e.start, e]));
  let i = 0;
  while (i < post.tokens.length) {
    if (i > 0) container.append(" ");
    const entity = byStart.get(i);
    if (entity) {
      const mark = el("mark", { class: "entity", "data-type": entity.type, "data-start": entity.start,
        "data-end": entity.end, "data-score": entity.score ?? "",
        title: `${entity.type}, ${formatScore(entity.score)}`,
        style: `background: ${colourOf(entity.type)}` });
      mark.append(el("span", { class: "text", text: post.tokens.slice(entity.start, entity.end).join(" ") }),
                  el("span", { class: "label", text: entity.type }));
      container.append(mark);
      i = entity.end;
    } else {
      container.append(post.tokens[i]);
      i += 1;
    }
  }
  const types = [...new Set(post.entities.map((e) => e.type))];
  document.getElementById("legend").replaceChildren(
    ...types.map((t) => el("span", { class: "swatch", style: `background: ${colourOf(t)}`, text: t })));
  const used = post.inputs.used.join(", ") || "nothing";
  const missing = post.inputs.missing.length ? `; missing: ${post.inputs.missing.join(", ")}` : "";
  document.getElementById("inputs").textContent =
    `${post.entities.length} entit${post.entities.length === 1 ? "y" : "ies"}; read: ${used}${missing}`;
}

function renderBoxes(post, files) {
  // grounded models give xyxy pixel boxes on the post's first image; drawn scaled to the shown size
  const figures = document.getElementById("figures");
  figures.replaceChildren();
  const grounded = post.entities.filter((e) => e.boxes && e.boxes.length);
  if (!files.length) return;
  const img = el("img", { alt: "the post's first image" });
  const figure = el("figure", {}, [img]);
  img.onload = () => {
    const sx = img.clientWidth / img.naturalWidth, sy = img.clientHeight / img.naturalHeight;
    for (const entity of grounded) {
      for (const [x0, y0, x1, y1] of entity.boxes) {
        const colour = colourOf(entity.type);
        const box = el("div", { class: "box", title: `${entity.text} (${entity.type}), ${formatScore(entity.score)}`,
          style: `left:${x0 * sx}px; top:${y0 * sy}px; width:${(x1 - x0) * sx}px; height:${(y1 - y0) * sy}px;` +
                 `border-color:${colour}` });
        box.append(el("span", { style: `background:${colour}; color:#222`, text: entity.text }));
        figure.append(box);
      }
    }
  };
  img.src = URL.createObjectURL(files[0]);
  figures.append(figure);
}

async function submit(event) {
  event.preventDefault();
  const status = document.getElementById("status");
  const form = new FormData();
  form.append("text", document.getElementById("text").value);
  for (const name of ["caption", "knowledge", "ocr"]) {
    const value = document.getElementById(name).value.trim();
    if (value) form.append(name, value);
  }
  const files = [...document.getElementById("images").files];
  for (const file of files) form.append("images", file, file.name);
  status.className = "";
  status.textContent = "tagging…";
  try {
    const response = await fetch("/v1/predict", { method: "POST", body: form });
    const answer = await response.json();
    document.getElementById("json").textContent = JSON.stringify(answer, null, 2);
    document.getElementById("output").hidden = false;
    if (!response.ok) {
      status.className = "error";
      status.textContent = answer.error || `error ${response.status}`;
      return;
    }
    renderPost(answer.posts[0]);
    renderBoxes(answer.posts[0], files);
    status.textContent = "done";
  } catch (err) {
    status.className = "error";
    status.textContent = `the server did not answer: ${err}`;
  }
}

async function describeModel() {
  try {
    const info = await (await fetch("/v1/model")).json();
    document.getElementById("model-line").textContent =
      `${info.name} (${info.kind}, ${info.precision}): types ${info.entity_types.join(", ")}; reads ${info.inputs.join(", ")}`;
  } catch (err) {
    document.getElementById("model-line").textContent = "model description unavailable";
  }
}

document.getElementById("post-form").addEventListener("submit", submit);
describeModel();
