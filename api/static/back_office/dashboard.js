// Draws each chart of the back office dashboard from the JSON the page carries (json_script),
// in the colours of Django admin's theme (light or dark). The same numbers are in a table
// beside each chart, so nothing depends on this script.
"use strict";
(function () {
  if (typeof window.Chart === "undefined") {
    return;
  }
  function themeColour(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }
  const charts = [];
  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return null;
    }
    const data = JSON.parse(source.textContent);
    const text = themeColour("--body-quiet-color", "#666");
    const grid = themeColour("--hairline-color", "#e8e8e8");
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels.map((day) => day.slice(5)),
        datasets: [{
          label: data.label + " (" + data.currency + ")",
          data: data.values.map(Number),
          backgroundColor: themeColour("--primary", "#79aec8"),
        }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { color: text } } },
        scales: {
          x: { ticks: { color: text }, grid: { color: grid } },
          y: { beginAtZero: true, ticks: { color: text }, grid: { color: grid } },
        },
      },
    });
  }
  function drawAll() {
    while (charts.length) {
      charts.pop().destroy();
    }
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const chart = draw(canvas);
      if (chart) {
        charts.push(chart);
      }
    });
  }
  drawAll();
  // Django admin's theme toggle (auto, light, dark) changes data-theme on <html>.
  new MutationObserver(drawAll).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", drawAll);
})();
