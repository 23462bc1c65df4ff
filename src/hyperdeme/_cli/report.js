document.querySelectorAll("#trials th").forEach((th, column) => {
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const ascending = th.dataset.order !== "asc";
    th.dataset.order = ascending ? "asc" : "desc";
    const key = (row) => {
      const text = row.cells[column].textContent;
      const number = parseFloat(text);
      return Number.isNaN(number) && text !== "nan" ? text : number;
    };
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  });
});
window.addEventListener("load", () => {
  document.body.dataset.imageWidths =
    Array.from(document.images).map((image) => image.naturalWidth).join(",");
  // nothing wider than the window: a wide table scrolls inside its box
  document.body.dataset.pageWidth = document.documentElement.scrollWidth;
  document.body.dataset.windowWidth = document.documentElement.clientWidth;
});
