// The "new model" and "derive" form: sends the typed values to /sim/new or /sim/derive and
// shows each problem the server names beside its field. Values go as typed (a number when
// the text is one): the server, not the browser, decides what is valid.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  const form = document.getElementById("model-form");
  if (!form) return;
  const formError = document.getElementById("form-error");
  const button = form.querySelector("button[type=submit]");

  const clear = () => {
    form.querySelectorAll(".field-error").forEach((slot) => {
      slot.hidden = true;
      slot.textContent = "";
    });
    form.querySelectorAll(".field.invalid").forEach((f) => f.classList.remove("invalid"));
    formError.hidden = true;
    formError.textContent = "";
  };

  const valueOf = (field) => {
    const input = field.querySelector("input, select, textarea");
    const nullable = field.hasAttribute("data-nullable");
    switch (field.dataset.kind) {
      case "checkbox":
        return input.checked;
      case "select":
        return JSON.parse(input.value);
      case "integer":
      case "number": {
        const text = input.value.trim();
        if (text === "" && nullable) return null;
        const n = Number(text);
        return text !== "" && Number.isFinite(n) ? n : input.value;
      }
      case "json":
        try {
          return JSON.parse(input.value);
        } catch {
          return input.value;
        }
      default:
        return input.value === "" && nullable ? null : input.value;
    }
  };

  const show = (name, message) => {
    const slot = [...form.querySelectorAll("[data-error-for]")].find((s) => s.dataset.errorFor === name);
    if (!slot) return false;
    slot.textContent = message;
    slot.hidden = false;
    slot.closest(".field").classList.add("invalid");
    return true;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    const parameters = {};
    form.querySelectorAll(".field[data-field]").forEach((field) => {
      parameters[field.dataset.field] = valueOf(field);
    });
    const name = form.elements.name.value.trim();
    let body;
    if (form.dataset.from) {
      if (!name) {
        show("name", "a derived model needs a name");
        return;
      }
      body = { from: form.dataset.from, name, parameters };
    } else {
      body = { template: form.dataset.template, version: form.dataset.version, parameters };
      if (name) body.name = name;
    }
    button.disabled = true;
    try {
      const res = await fetch(form.dataset.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body),
      });
      const doc = await res.json();
      if (!res.ok) {
        const errors = doc.errors && doc.errors.length ? doc.errors : [{ field: doc.field, message: doc.detail }];
        let placed = false;
        for (const problem of errors) placed = show(problem.field || "", problem.message) || placed;
        if (!placed) {
          formError.textContent = doc.detail || `HTTP ${res.status}`;
          formError.hidden = false;
        }
        return;
      }
      window.location.assign(`/models/${encodeURIComponent(doc.model_id)}?version=${doc.version}`);
    } catch (error) {
      formError.textContent = `the model could not be stored: ${error.message}`;
      formError.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
});
