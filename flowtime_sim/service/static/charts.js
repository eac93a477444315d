// Interactive charts (uPlot, vendored under /static/vendor/uplot): a time axis, a value axis,
// the values under the cursor in the legend, drag to zoom into a time range, double-click to
// zoom out. The data is JSON the server embedded next to each chart.
"use strict";

(() => {
  // Okabe–Ito, colour-blind safe; the legend also names each line.
  const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
    "#f0e442", "#000000", "#004c7a", "#9c6b00", "#006b4e", "#8a4f73"];
  const HEIGHT = 320;

  const number = (v) => {
    if (v == null || Number.isNaN(v)) return "–";
    if (Number.isInteger(v)) return v.toLocaleString("en");
    return Number(v.toPrecision(6)).toLocaleString("en", { maximumFractionDigits: 4 });
  };
  const utc = (seconds) =>
    seconds == null ? "–" : `${new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;

  function draw(box) {
    const data = JSON.parse(box.querySelector("[data-chart-data]").textContent);
    const select = box.querySelector("[data-series]");
    const plot = box.querySelector("[data-plot]");
    let chart = null;
    const width = () => Math.max(320, plot.clientWidth);

    const render = () => {
      const name = select.value;
      const columns = data.series[name].map((values) => {
        const out = values ? values.slice() : [];
        while (out.length < data.x.length) out.push(null);
        return out;
      });
      const lines = data.runs.map((run, i) => ({
        label: run.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        value: (u, v) => number(v),
      }));
      const options = {
        width: width(),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: { x: { time: data.time } },
        cursor: { drag: { x: true, y: false } },
        axes: [
          { label: data.x_label, stroke: "#52606d", grid: { stroke: "#e4e7eb" } },
          {
            label: name,
            stroke: "#52606d",
            grid: { stroke: "#e4e7eb" },
            size: 64,
            values: (u, ticks) => ticks.map(number),
          },
        ],
        series: [{ label: data.x_label, value: (u, v) => (data.time ? utc(v) : number(v)) }, ...lines],
      };
      if (chart) chart.destroy();
      chart = new uPlot(options, [data.x, ...columns], plot);
      box.dataset.series = name;
      box.dataset.lines = String(lines.length);
      box.uplot = chart; // for the tests and the console
      box.dataset.ready = "1";
    };

    select.addEventListener("change", render);
    window.addEventListener("resize", () => chart && chart.setSize({ width: width(), height: HEIGHT }));
    render();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
