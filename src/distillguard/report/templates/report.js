// Drill-down: any element with data-account opens that account's panel in the drawer.
(function () {
  const drawer = document.getElementById("drawer");
  const panels = Array.from(drawer.querySelectorAll("section.drill"));
  const byAccount = new Map(panels.map(function (p) { return [p.dataset.account, p]; }));
  function open(account) {
    const panel = byAccount.get(account);
    panels.forEach(function (p) { p.hidden = p !== panel; });
    document.getElementById("no-drill").hidden = Boolean(panel);
    document.getElementById("no-drill-id").textContent = account;
    drawer.hidden = false;
    drawer.scrollTop = 0;
  }
  document.addEventListener("click", function (ev) {
    const target = ev.target.closest("[data-account]");
    if (target && !target.matches("section.drill")) { ev.preventDefault(); open(target.dataset.account); return; }
    if (ev.target.closest("#drawer .close")) { drawer.hidden = true; }
  });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { drawer.hidden = true; } });
  const search = document.getElementById("search");
  const rows = Array.from(document.querySelectorAll("#accounts-table tbody tr"));
  search.addEventListener("input", function () {
    const q = search.value.trim().toLowerCase();
    rows.forEach(function (r) { r.hidden = q !== "" && !r.textContent.toLowerCase().includes(q); });
  });
})();
