// The "Run" button of a model page: POST /sim/run, then show the run's series (rendered by the
// server from binned_v0.csv, so this file only fetches and inserts).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-run]");
  if (!form) return;
  const out = document.getElementById("run-result");
  const button = form.querySelector("button[type=submit]");

  const fail = (message) => {
    out.className = "run-result";
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    out.replaceChildren(p);
  };

  const listRun = (runId) => {
    let runs = document.getElementById("runs");
    if (runs.tagName !== "UL") {
      const list = document.createElement("ul");
      list.className = "runs";
      list.id = "runs";
      runs.replaceWith(list);
      runs = list;
    }
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "mono";
    link.href = `/runs/${encodeURIComponent(runId)}`;
    link.textContent = runId;
    const when = document.createElement("span");
    when.className = "muted";
    when.textContent = "just now";
    item.append(link, when);
    runs.prepend(item);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      model_id: form.dataset.model,
      version: Number(form.dataset.version),
      mode: form.elements.mode.value,
    };
    const seed = form.elements.seed.value.trim();
    // As text: a 64-bit seed does not survive a JavaScript number; the server reads either.
    if (seed !== "") body.seed = seed;
    button.disabled = true;
    out.className = "run-result busy";
    out.textContent = "Running…";
    try {
      const res = await fetch("/sim/run", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body),
      });
      const doc = await res.json();
      if (!res.ok) {
        fail(doc.detail || `the run failed (HTTP ${res.status})`);
        return;
      }
      const fragment = await fetch(`/runs/${encodeURIComponent(doc.run_id)}?fragment=1`, {
        credentials: "same-origin",
      });
      if (!fragment.ok) {
        fail(`run ${doc.run_id} was stored, but its series could not be shown`);
        return;
      }
      out.className = "run-result";
      out.dataset.runId = doc.run_id;
      out.dataset.status = doc.status;
      out.innerHTML = await fragment.text(); // the server's own, escaped HTML
      const status = document.createElement("p");
      status.className = "run-status";
      status.textContent = doc.status === "created" ? "New run stored." : "This run was already stored.";
      out.prepend(status);
      if (doc.status === "created") listRun(doc.run_id);
    } catch (error) {
      fail(`the run could not be started: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
});
