// Steward UI: light progressive enhancement; every page works without it.
"use strict";
(function () {
  // MLflow clients print "View run at http://host/#/experiments/<id>/runs/<run>": follow them.
  if (location.pathname === "/" && location.hash) {
    var m = location.hash.match(/^#\/experiments\/([^/]+)(?:\/runs\/([0-9a-fA-F]+))?/);
    if (m) {
      location.replace(m[2] ? "/runs/" + encodeURIComponent(m[2]) : "/experiments/" + encodeURIComponent(m[1]));
      return;
    }
  }

  function dark() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  function drawCharts() {
    var holder = document.querySelector("[data-charts]");
    if (!holder || typeof window.Plotly === "undefined") return;
    var source = document.getElementById(holder.getAttribute("data-charts"));
    if (!source) return;
    var series = JSON.parse(source.textContent || "{}");
    var fg = dark() ? "#e6edf3" : "#1b1f24";
    var grid = dark() ? "#30363d" : "#d0d7de";
    holder.querySelectorAll(".plot").forEach(function (el) {
      var lines = series[el.getAttribute("data-key")] || [];
      var traces = lines.map(function (l) {
        return { x: l.x, y: l.y, name: l.name, type: "scatter", mode: l.x.length > 1 ? "lines" : "markers" };
      });
      window.Plotly.newPlot(el, traces, {
        margin: { l: 50, r: 10, t: 10, b: 40 }, height: 260,
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: fg }, showlegend: lines.length > 1, legend: { orientation: "h" },
        xaxis: { title: { text: "step" }, gridcolor: grid, zerolinecolor: grid },
        yaxis: { gridcolor: grid, zerolinecolor: grid }
      }, { displaylogo: false, responsive: true });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    // confirm destructive actions
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
    // compare: at least two runs
    var compare = document.getElementById("compare-form");
    if (compare) {
      compare.addEventListener("submit", function (ev) {
        if (compare.querySelectorAll("input[name=run]:checked").length < 2) {
          ev.preventDefault();
          window.alert("Select at least two runs to compare.");
        }
      });
    }
    // the filter box: Escape clears it
    var filter = document.getElementById("filter");
    if (filter) {
      filter.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { filter.value = ""; }
      });
    }
  });
})();
