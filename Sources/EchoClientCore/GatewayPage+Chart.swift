/// The page's chart of the last minute: requests and errors per second as bars above p50 and p99
/// latency as steps, one column per second of `/stats`' `history`, so a burst shows as a spike
/// without reading numbers. Inline SVG drawn by the page's script; an image to assistive
/// technology, labelled with the current values.
extension GatewayPage {
  /// In the page's palette (it has no dark scheme), so the chart reads like the rest.
  static let chartStyle = """
      #chart { display: block; width: 100%; max-width: 420px; height: auto;
               font: 11px system-ui, sans-serif; font-variant-numeric: tabular-nums; }
      #chart text { fill: #5a6577; }
      #chart text.end { text-anchor: end; } #chart text.middle { text-anchor: middle; }
      #chart .axis { stroke: #b8c0cc; } #chart .grid { stroke: #eceff3; }
      #chart .bar { fill: #2f6fde; } #chart .err-bar { fill: #c2261d; }
      #chart .line { fill: none; stroke-width: 2; }
      #chart .p50 { stroke: #1d2330; } #chart .p99 { stroke: #e8590c; }
    """

  /// Two panels sharing the time axis; the script fills the bars, lines, scale maxima and label.
  static let chartMarkup = """
    <svg id="chart" viewBox="0 0 266 244" role="img" aria-label="Traffic over the last 60 s">
      <title id="chart-title">Traffic over the last 60 s</title>
      <rect class="bar" x="36" y="4" width="9" height="9"/><text x="49" y="12">requests/s</text>
      <rect class="err-bar" x="118" y="4" width="9" height="9"/><text x="131" y="12">errors/s</text>
      <text id="chart-rate-max" class="end" x="32" y="28">1</text>
      <text class="end" x="32" y="106">0</text>
      <line class="grid" x1="36" x2="260" y1="24.5" y2="24.5"/>
      <line class="grid" x1="148" x2="148" y1="24" y2="220"/>
      <g id="chart-rate"></g>
      <line class="axis" x1="36" x2="260" y1="104.5" y2="104.5"/>
      <path class="line p50" d="M36 128.5h14"/><text x="54" y="132">p50</text>
      <path class="line p99" d="M84 128.5h14"/><text x="102" y="132">p99</text>
      <text x="131" y="132">latency, ms</text>
      <text id="chart-latency-max" class="end" x="32" y="144">1</text>
      <text class="end" x="32" y="222">0</text>
      <line class="grid" x1="36" x2="260" y1="140.5" y2="140.5"/>
      <path id="chart-p50" class="line p50" d=""/>
      <path id="chart-p99" class="line p99" d=""/>
      <line class="axis" x1="36" x2="260" y1="220.5" y2="220.5"/>
      <text x="36" y="236">60 s ago</text>
      <text class="middle" x="148" y="236">30 s</text>
      <text class="end" x="260" y="236">now</text>
    </svg>
    """

  /// `drawChart(stats)`, called on every poll of `/stats` (once a second) with its answer.
  static let chartScript = #"""
    // Panels in the SVG's coordinates: columns from x0 to x1, each panel from top to bottom.
    const chartBox = { x0: 36, x1: 260, rate: [24, 104], latency: [140, 220] };

    // The scale's top: 1, 2 or 5 times a power of ten, at least the largest value.
    function niceCeiling(value) {
      if (!(value > 0)) return 1;
      const power = Math.pow(10, Math.floor(Math.log10(value)));
      return Number(([1, 2, 5, 10].find((step) => step * power >= value) * power).toPrecision(3));
    }

    function svgElement(parent, name, attributes) {
      const element = document.createElementNS("http://www.w3.org/2000/svg", name);
      for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
      return parent.appendChild(element);
    }

    function drawChart(stats) {
      const history = stats.history || [];
      const width = (chartBox.x1 - chartBox.x0) / Math.max(history.length, 1);
      const rateMax = niceCeiling(Math.max(...history.map((s) => s.requests)));
      const latencyMax = niceCeiling(Math.max(...history.map((s) => s.p99_ms)));
      const [rateTop, rateBottom] = chartBox.rate, [latencyTop, latencyBottom] = chartBox.latency;
      const bars = document.getElementById("chart-rate");
      bars.replaceChildren();
      const paths = { p50_ms: "", p99_ms: "" };
      const barHeight = (value) => value / rateMax * (rateBottom - rateTop);
      history.forEach((second, index) => {
        // A second without requests has no bar and no latency: the lines break there.
        if (second.requests === 0) return;
        const x = chartBox.x0 + index * width;
        const column = { x: x + 0.4, width: width - 0.8 };
        const bar = svgElement(bars, "rect", { ...column, class: "bar", "data-requests": second.requests,
          y: rateBottom - barHeight(second.requests), height: barHeight(second.requests) });
        svgElement(bar, "title", {}).textContent = second.seconds_ago + " s ago: " + second.requests +
          " requests, " + second.errors + " errors, p50 " + second.p50_ms.toFixed(2) + " ms, p99 " +
          second.p99_ms.toFixed(2) + " ms";
        if (second.errors > 0) {
          svgElement(bars, "rect", { ...column, class: "err-bar",
            y: rateBottom - barHeight(second.errors), height: barHeight(second.errors) });
        }
        // Latency as steps, one per second, joined where the seconds before had requests too.
        const joined = index > 0 && history[index - 1].requests > 0;
        for (const key in paths) {
          const share = Math.min(second[key] / latencyMax, 1);
          const y = (latencyBottom - share * (latencyBottom - latencyTop)).toFixed(2);
          paths[key] += (joined ? "L" : "M") + x.toFixed(2) + " " + y + "H" + (x + width).toFixed(2);
        }
      });
      document.getElementById("chart-p50").setAttribute("d", paths.p50_ms);
      document.getElementById("chart-p99").setAttribute("d", paths.p99_ms);
      setText("chart-rate-max", String(rateMax));
      setText("chart-latency-max", String(latencyMax));
      const peak = history.reduce((top, s) => (s.requests > top.requests ? s : top), history[0]);
      const label = "Traffic over the last 60 s. Last 10 s: " +
        stats.requests_per_second.toFixed(1) + " requests/s, " + stats.errors_per_second.toFixed(1) +
        " errors/s, p50 " + stats.p50_ms.toFixed(2) + " ms, p99 " + stats.p99_ms.toFixed(2) + " ms. " +
        (peak && peak.requests > 0
          ? "Peak: " + peak.requests + " requests/s " + peak.seconds_ago + " s ago, p99 " +
            peak.p99_ms.toFixed(2) + " ms."
          : "No requests in the last 60 s.");
      document.getElementById("chart").setAttribute("aria-label", label);
      setText("chart-title", label);
    }
    """#
}
