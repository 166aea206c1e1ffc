/// The page served at `/`: a form that sends one message or a burst through `/echo`, the
/// replies with their latency, a live view of the gateway's traffic from `/stats` (numbers and
/// a chart of the last minute, `GatewayPage+Chart.swift`), and links to `/metrics`, Prometheus
/// and Grafana. Self-contained (no external assets), and every reply is inserted with
/// `textContent`, never as HTML.
enum GatewayPage {
  /// The page with the Prometheus and Grafana links filled in (HTML-escaped).
  static func html(prometheusURL: String, grafanaURL: String) -> String {
    Self.template
      .replacing("{{PROMETHEUS_URL}}", with: Self.escape(prometheusURL))
      .replacing("{{GRAFANA_URL}}", with: Self.escape(grafanaURL))
  }

  /// Escapes text for an HTML attribute or element.
  static func escape(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\"": escaped += "&quot;"
      case "'": escaped += "&#39;"
      default: escaped.append(character)
      }
    }
    return escaped
  }

  private static let template = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>gRPC echo client</title>
    <style>
      body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
      header { background: #1d2330; color: #fff; padding: 14px 24px; }
      header h1 { margin: 0; font-size: 19px; }
      header p { margin: 2px 0 0; color: #b9c2d0; font-size: 13px; }
      main { display: grid; grid-template-columns: minmax(320px, 1fr) 300px; gap: 18px;
             padding: 18px 24px; max-width: 1100px; }
      section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 14px 16px; }
      h2 { font-size: 15px; margin: 0 0 10px; }
      form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
      input[type=text] { flex: 1 1 220px; padding: 7px 9px; border: 1px solid #b8c0cc; border-radius: 5px;
                         font: inherit; }
      input[type=number] { width: 70px; padding: 7px; border: 1px solid #b8c0cc; border-radius: 5px; }
      button { padding: 7px 14px; border: 0; border-radius: 5px; background: #2f6fde; color: #fff;
               font: inherit; cursor: pointer; }
      button.secondary { background: #5a6577; }
      table { width: 100%; border-collapse: collapse; margin-top: 12px; font-size: 14px; }
      th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid #eceff3; vertical-align: top; }
      td.reply { font-family: ui-monospace, monospace; word-break: break-all; }
      .ok { color: #17803d; } .err { color: #c2261d; }
      dl { display: grid; grid-template-columns: auto auto; gap: 4px 12px; margin: 0; }
      dt { color: #5a6577; } dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
      ul { padding-left: 18px; margin: 6px 0 0; }
    \#(Self.chartStyle)
      @media (max-width: 760px) { main { grid-template-columns: 1fr; } }
    </style>
    </head>
    <body>
    <header>
      <h1>gRPC echo client</h1>
      <p>Each message goes through this gateway to <code>proto.EchoService</code> over gRPC.</p>
    </header>
    <main>
      <section>
        <h2>Send a message</h2>
        <form id="send">
          <input id="message" type="text" name="m" placeholder="hello" autocomplete="off">
          <button id="send-one" type="submit">Send</button>
          <label>burst <input id="count" type="number" min="1" max="1000" value="10"></label>
          <button id="send-burst" type="button" class="secondary">Send burst</button>
        </form>
        <p id="burst-summary"></p>
        <table>
          <thead><tr><th>#</th><th>reply</th><th>status</th><th>latency</th><th>replica</th></tr></thead>
          <tbody id="replies"></tbody>
        </table>
      </section>
      <aside>
        <section>
          <h2>This gateway, last 10 s</h2>
          <dl>
            <dt>requests/s</dt><dd id="rate">–</dd>
            <dt>errors/s</dt><dd id="error-rate">–</dd>
            <dt>errors since start</dt><dd id="errors">–</dd>
            <dt>p50</dt><dd id="p50">–</dd>
            <dt>p90</dt><dd id="p90">–</dd>
            <dt>p99</dt><dd id="p99">–</dd>
          </dl>
        </section>
        <section style="margin-top: 18px">
          <h2>Last 60 s, per second</h2>
          \#(Self.chartMarkup)
        </section>
        <section style="margin-top: 18px">
          <h2>Monitoring</h2>
          <ul>
            <li><a href="/metrics">/metrics</a> of this gateway</li>
            <li><a id="prometheus" href="{{PROMETHEUS_URL}}">Prometheus</a></li>
            <li><a id="grafana" href="{{GRAFANA_URL}}">Grafana</a></li>
          </ul>
        </section>
      </aside>
    </main>
    <script>
    "use strict";
    let sequence = 0;
    const replies = document.getElementById("replies");

    function cell(row, text, className) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      row.appendChild(td);
    }

    async function echo(message) {
      const started = performance.now();
      try {
        const response = await fetch("/echo", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify({ message: message }),
        });
        const text = await response.text();
        let body;
        try { body = JSON.parse(text); } catch (e) { body = { grpc_status: "HTTP " + response.status, grpc_message: text }; }
        return { ok: response.ok, body: body, roundTrip: performance.now() - started };
      } catch (error) {
        return { ok: false, body: { grpc_status: "NETWORK", grpc_message: String(error) },
                 roundTrip: performance.now() - started };
      }
    }

    function show(result) {
      sequence += 1;
      const row = document.createElement("tr");
      row.className = "reply-row";
      const b = result.body;
      cell(row, String(sequence));
      cell(row, result.ok ? b.reply : (b.grpc_message || ""), "reply");
      cell(row, b.grpc_status, result.ok ? "ok status" : "err status");
      const latency = typeof b.latency_ms === "number" ? b.latency_ms : result.roundTrip;
      cell(row, latency.toFixed(2) + " ms", "latency");
      cell(row, b.replica || "");
      replies.insertBefore(row, replies.firstChild);
      while (replies.children.length > 200) replies.removeChild(replies.lastChild);
    }

    document.getElementById("send").addEventListener("submit", async (event) => {
      event.preventDefault();
      show(await echo(document.getElementById("message").value));
    });

    document.getElementById("send-burst").addEventListener("click", async () => {
      const count = Math.max(1, Math.min(1000, Number(document.getElementById("count").value) || 1));
      const message = document.getElementById("message").value;
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: count }, () => echo(message)));
      results.forEach(show);
      const failed = results.filter((r) => !r.ok).length;
      document.getElementById("burst-summary").textContent =
        count + " requests in " + (performance.now() - started).toFixed(0) + " ms, " + failed + " failed";
    });

    function setText(id, value) { document.getElementById(id).textContent = value; }

    \#(Self.chartScript)

    async function refresh() {
      try {
        const stats = await (await fetch("/stats")).json();
        setText("rate", stats.requests_per_second.toFixed(1));
        setText("error-rate", stats.errors_per_second.toFixed(1));
        setText("errors", String(stats.errors));
        setText("p50", stats.p50_ms.toFixed(2) + " ms");
        setText("p90", stats.p90_ms.toFixed(2) + " ms");
        setText("p99", stats.p99_ms.toFixed(2) + " ms");
        drawChart(stats);
      } catch (e) { /* the gateway is restarting; try again next tick */ }
    }
    refresh();
    setInterval(refresh, 1000);
    </script>
    </body>
    </html>
    """#
}
