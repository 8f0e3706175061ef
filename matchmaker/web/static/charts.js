/* Draws the page's charts from the JSON the server put in #chart-data; each chart also has a data table. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#1d4f91", "#c0392b", "#1e7b4f", "#b9770e", "#6c3483", "#117a8b", "#5d6d7e"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#333";
  Chart.defaults.animation = false; // steadier for screen readers and screenshots

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }
  function bar(labels, values, label, color, horizontal) {
    return {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: color }] },
      options: { maintainAspectRatio: false, indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true }, y: { beginAtZero: true } } }
    };
  }

  if (data.turnover) {
    draw("chart-turnover", {
      type: "bar",
      data: { labels: data.turnover.labels, datasets: [
        { label: "成交额（万元）", data: data.turnover.amount, backgroundColor: palette[0], yAxisID: "y" },
        { label: "合同数（项）", data: data.turnover.contracts, type: "line", borderColor: palette[1],
          backgroundColor: palette[1], yAxisID: "y1" }] },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, position: "left" },
                 y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } } } }
    });
    draw("chart-regions", bar(data.regions.labels, data.regions.amount, "成交额（万元）", palette[2], true));
    var conversion = bar(data.conversion.labels, data.conversion.rate, "本地转化率（%）", palette[3], false);
    conversion.options.scales.y.max = 100;
    draw("chart-conversion", conversion);
    draw("chart-funnel", bar(data.funnel.labels, data.funnel.count, "数量", palette[4], true));
  }
  if (data.runs) {
    draw("chart-runs", {
      type: "line",
      data: { labels: data.runs.labels, datasets: data.runs.runs.map(function (run, i) {
        return { label: run.label, data: run.turnover, borderColor: palette[i % palette.length],
                 backgroundColor: palette[i % palette.length], tension: 0.2 };
      }) },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } }
    });
  }
})();
