// mailintake web view: the only script. The unit list's filters apply as soon as one is chosen.
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("form.filter select")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
