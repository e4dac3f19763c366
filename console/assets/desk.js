// The appeal forms (agent desk, public submission) and the dispatcher's case: small
// enhancements, every form works without them. Texts come from the page or the server.
"use strict";

// The enterprise's USCC only when the appellant is an enterprise; the on-the-spot answer only
// for a consultation.
function appealForm(form) {
  const uscc = form.querySelector(".uscc-field");
  const answer = form.querySelector("#answer-fields");
  const sync = () => {
    const kind = form.querySelector("input[name=appellant_kind]:checked");
    if (uscc) uscc.hidden = !(kind && kind.value === "enterprise");
    const appealKind = form.querySelector("input[name=kind]:checked");
    if (answer) {
      const consultation = appealKind && appealKind.value === "consultation";
      const typed = form.querySelector("#answer");
      answer.hidden = !consultation && !(typed && typed.value.trim());
    }
  };
  form.addEventListener("change", sync);
  sync();
}

// The router's view of what the agent types, beside the form: the unit and matter it would
// choose, urgency, confidentiality, and probable duplicates. Nothing is stored.
function livePreview(form, panel) {
  const url = form.dataset.preview;
  const csrf = panel.dataset.csrf;
  const $ = (id) => panel.querySelector("#" + id);
  const summary = $("preview-summary");
  const waiting = summary.textContent;
  let timer = null;
  let asked = 0;
  let controller = null;

  const value = (name) => {
    const field = form.elements.namedItem(name);
    if (!field) return "";
    if (field instanceof RadioNodeList) return field.value || "";
    return field.value || "";
  };
  const show = (el, text) => {
    el.hidden = !text;
    el.textContent = text || "";
  };
  const list = (heading, ol, items, render) => {
    ol.replaceChildren(...items.map(render));
    $(heading).hidden = items.length === 0;
  };
  const render = (p) => {
    show(summary, p.summary);
    show($("preview-urgent"), p.urgent);
    show($("preview-confidential"), p.confidential);
    show($("preview-problem"), "");
    list("preview-suggestions-heading", $("preview-suggestions"), p.suggestions, (s) => {
      const li = document.createElement("li");
      li.textContent = s.label + " ";
      const pct = document.createElement("span");
      pct.className = "hint";
      pct.textContent = s.percent;
      li.append(pct);
      return li;
    });
    list("preview-duplicates-heading", $("preview-duplicates"), p.duplicates, (d) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = d.href;
      a.textContent = d.ticket;
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = d.status;
      const why = document.createElement("span");
      why.className = "hint";
      why.textContent = " " + d.why;
      li.append(a, " " + d.title + " ", badge, why);
      return li;
    });
  };
  const clear = () => {
    render({ summary: waiting, suggestions: [], duplicates: [], urgent: null, confidential: null });
  };

  const ask = async () => {
    const body = value("body").trim();
    const title = value("title").trim();
    if (body.length + title.length < 4) { clear(); return; }
    const mine = ++asked;
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: { "content-type": "application/json", "x-csrf-token": csrf, "accept": "application/json" },
        body: JSON.stringify({
          title, body, kind: value("kind"), phone: value("phone").trim(),
          uscc: value("uscc").trim(), address: value("address").trim(),
        }),
      });
      if (mine !== asked) return;
      const type = response.headers.get("content-type") || "";
      if (!type.includes("application/json")) { show($("preview-problem"), panel.dataset.offline || ""); return; }
      const answer = await response.json();
      if (mine !== asked) return;
      if (response.ok) render(answer); else show($("preview-problem"), answer.message);
    } catch (e) {
      if (e.name !== "AbortError") show($("preview-problem"), panel.dataset.offline || "");
    }
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(ask, 400); };
  for (const name of ["body", "title", "address", "phone", "uscc"]) {
    const field = form.elements.namedItem(name);
    if (field && field.addEventListener) field.addEventListener("input", soon);
  }
  form.addEventListener("change", soon);
  if (value("body").trim()) soon();
}

// Dispatching: only the matters of the unit chosen are offered; a matter of another unit is
// let go when the unit changes.
function assignForm(form) {
  const unit = form.querySelector("#unit");
  const matter = form.querySelector("#matter");
  if (!unit || !matter) return;
  const sync = () => {
    for (const option of matter.querySelectorAll("option[data-unit]")) {
      const other = option.dataset.unit !== unit.value;
      option.hidden = other;
      option.disabled = other;
    }
    for (const group of matter.querySelectorAll("optgroup")) {
      group.hidden = !group.querySelector("option:not([disabled])");
    }
    const chosen = matter.selectedOptions[0];
    if (chosen && chosen.disabled) matter.value = "";
  };
  unit.addEventListener("change", sync);
  sync();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.appeal-form")) appealForm(form);
  const desk = document.querySelector("#desk-form[data-preview]");
  const panel = document.querySelector("#preview[data-csrf]");
  if (desk && panel && window.fetch) livePreview(desk, panel);
  for (const form of document.querySelectorAll("form.assign")) assignForm(form);
});
