// The supervision dashboard's charts: ECharts over the rows the server rendered into
// #chart-data (the same rows as the tables under each chart). Without JavaScript the
// tables alone show every figure.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var names = data.names;
  var palette = ["#9b1c1c", "#1d4e89", "#1d5e2a", "#7a4b00", "#5b2a86", "#00606b"];

  function axes(labels, left, right) {
    return {
      color: palette,
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 64, top: 40, bottom: 56 },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 8 ? 40 : 0 } },
      yAxis: [
        { type: "value", name: left, minInterval: 1 },
        { type: "value", name: right, splitLine: { show: false } }
      ]
    };
  }

  var build = {
    daily: function (d) {
      var o = axes(d.labels, names.bills, names.amount);
      o.series = [
        { name: names.bills, type: "bar", data: d.bills },
        { name: names.amount, type: "line", yAxisIndex: 1, data: d.amount }
      ];
      return o;
    },
    monthly: function (d) {
      var o = axes(d.labels, names.bills, "%");
      o.series = [
        { name: names.bills, type: "bar", data: d.bills },
        { name: names.reimbursedRate, type: "line", yAxisIndex: 1, data: d.reimbursedRate },
        { name: names.redRate, type: "line", yAxisIndex: 1, data: d.redRate }
      ];
      return o;
    },
    sectors: function (d) {
      var o = axes(d.labels, names.amount, "%");
      o.series = [
        { name: names.amount, type: "bar", data: d.amount },
        { name: names.reimbursedRate, type: "line", yAxisIndex: 1, data: d.reimbursedRate },
        { name: names.redRate, type: "line", yAxisIndex: 1, data: d.redRate }
      ];
      return o;
    },
    anomalies: function (d) {
      var o = axes(d.labels, "", "");
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = d.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "anomalies", data: s.data };
      });
      return o;
    }
  };
  build.units = build.sectors;

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var name = el.getAttribute("data-chart");
    if (!build[name] || !data[name]) { return; }
    el.classList.add("drawn");
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(build[name](data[name]));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
