// Steward UI: charts of the model, deployment, monitor and dataset pages (plotly.js, served by Steward).
// Data travels as JSON in <script type="application/json" id="lc-charts">: {id: {traces, layout}}.
"use strict";
(function () {
  function dark() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }
  function draw() {
    var source = document.getElementById("lc-charts");
    if (!source || typeof window.Plotly === "undefined") return;
    var charts = JSON.parse(source.textContent || "{}");
    var fg = dark() ? "#e6edf3" : "#1b1f24";
    var grid = dark() ? "#30363d" : "#d0d7de";
    document.querySelectorAll("[data-lc-chart]").forEach(function (el) {
      var chart = charts[el.getAttribute("data-lc-chart")];
      if (!chart) return;
      var layout = Object.assign({
        margin: { l: 50, r: 10, t: 10, b: 40 }, height: 240,
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: fg }, showlegend: chart.traces.length > 1, legend: { orientation: "h" }
      }, chart.layout || {});
      layout.xaxis = Object.assign({ gridcolor: grid, zerolinecolor: grid }, layout.xaxis || {});
      layout.yaxis = Object.assign({ gridcolor: grid, zerolinecolor: grid }, layout.yaxis || {});
      window.Plotly.newPlot(el, chart.traces, layout, { displaylogo: false, responsive: true });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
