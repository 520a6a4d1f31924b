// ledgerflow web UI: previews before changes, and the change dialog. No framework, no network but this server.
"use strict";

function previewForm(form) {
  const target = form.querySelector(".preview-target");
  const confirm = form.querySelector("[data-confirm]");
  const reason = form.querySelector("[name=reason]");
  let previewed = false;
  const update = () => {
    const reasoned = !form.hasAttribute("data-require-reason") || (reason && reason.value.trim() !== "");
    confirm.disabled = !(previewed && reasoned);
  };
  form.resetPreview = () => { previewed = false; target.innerHTML = ""; update(); };
  form.addEventListener("change", (e) => { if (e.target !== reason) form.resetPreview(); });
  if (reason) reason.addEventListener("input", update);
  form.querySelector("[data-preview-button]").addEventListener("click", async () => {
    target.textContent = "Loading the dry run…";
    const answer = await fetch(form.dataset.previewUrl, {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      headers: {"X-Fragment": "1"},
    });
    target.innerHTML = await answer.text();
    previewed = answer.ok;
    update();
    if (previewed && reason) reason.focus();
  });
  form.addEventListener("submit", (e) => { if (confirm.disabled) e.preventDefault(); });
  update();
}

function changeDialog(dialog) {
  const form = dialog.querySelector("form");
  const titles = {clear: "Clear task instances", success: "Mark success", failed: "Mark failed"};
  document.querySelectorAll("[data-opens]").forEach((button) => button.addEventListener("click", () => {
    const mode = button.dataset.opens;
    form.action = button.dataset.action;
    form.dataset.previewUrl = button.dataset.previewUrl;
    form.elements.state.value = mode === "clear" ? "" : mode;
    dialog.querySelector("#change-title").textContent = titles[mode];
    dialog.querySelectorAll(".clear-only").forEach((el) => { el.hidden = mode !== "clear"; });
    form.querySelectorAll("input[type=checkbox]").forEach((box) => { box.checked = false; });
    form.resetPreview();
    dialog.showModal();
    form.querySelector("input[type=checkbox]").focus();
  }));
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-preview-form]").forEach(previewForm);
  const dialog = document.getElementById("change-dialog");
  if (dialog) changeDialog(dialog);
  document.querySelectorAll("form[data-asof-form]").forEach((form) => form.addEventListener("submit", () => {
    form.action = "/dags/" + encodeURIComponent(form.elements.dag.value) + "/grid";  // the chosen DAG's grid
  }));
  document.querySelectorAll("[data-fragment]").forEach(async (el) => {  // slow parts, after the page shows
    const answer = await fetch(el.dataset.fragment, {credentials: "same-origin", headers: {"X-Fragment": "1"}});
    el.innerHTML = await answer.text();
  });
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
});
