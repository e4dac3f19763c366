// The dashboard's charts (Apache ECharts, served from the console: no network, no inline
// script). Each `.chart` carries its data in `data-chart`:
// {"kind": "line"|"bar"|"hbar"|"pie", "labels": [...], "series": [{"name", "data"}], "percent"?}.
// The table after each chart holds the same figures.
"use strict";
(function () {
  const palette = ["#0b57a3", "#b3261e", "#1e6b34", "#8a5300", "#6a3d9a", "#00727a", "#5b6670",
    "#c2185b", "#33691e", "#3949ab"];
  const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function option(spec) {
    const base = {
      color: palette,
      animation: !still,
      textStyle: { fontFamily: "system-ui, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif" },
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis" },
      legend: { type: "scroll", top: 0 },
    };
    const unit = spec.percent ? "%" : "";
    if (spec.kind === "pie") {
      const s = spec.series[0] || { name: "", data: [] };
      return Object.assign(base, {
        legend: { type: "scroll", bottom: 0 },
        series: [{
          name: s.name, type: "pie", radius: ["35%", "65%"], top: 0, bottom: 30,
          label: { formatter: "{b}: {c} ({d}%)" },
          data: spec.labels.map((label, i) => ({ name: label, value: s.data[i] })),
        }],
      });
    }
    const horizontal = spec.kind === "hbar";
    const category = { type: "category", data: spec.labels, axisLabel: { hideOverlap: true } };
    const value = { type: "value", axisLabel: { formatter: "{value}" + unit } };
    if (spec.percent) value.max = 100;
    if (horizontal) category.inverse = true;
    return Object.assign(base, {
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: spec.series.map((s) => ({
        name: s.name,
        type: spec.kind === "line" ? "line" : "bar",
        data: s.data,
        smooth: false,
        showSymbol: spec.kind === "line" && spec.labels.length <= 31,
      })),
    });
  }

  function draw() {
    if (typeof echarts === "undefined") return;
    const charts = [];
    for (const el of document.querySelectorAll(".chart[data-chart]")) {
      let spec;
      try { spec = JSON.parse(el.dataset.chart); } catch (e) { continue; }
      if (spec.kind === "hbar") {
        el.style.height = Math.max(240, 48 + spec.labels.length * 28 * Math.max(1, spec.series.length / 2)) + "px";
      }
      const chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(spec));
      el.dataset.drawn = "true";
      charts.push(chart);
    }
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => charts.forEach((c) => c.resize()), 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
