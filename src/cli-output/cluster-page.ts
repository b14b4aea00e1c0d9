/**
 * The cluster page of `shardctl status --web PORT`: the ring as `ring draw` pictures it,
 * and a table of the nodes (state in the words of `shardctl status`, ring held, records,
 * version, database, check time, a rebalance's progress, or when it finished) that the
 * page's script fills from `status.json` every few seconds. It reads in a 1280 px window
 * without scrolling sideways, its text at 12 px and up. Everything is in the page: no
 * script, style or font from anywhere else.
 */
import type { Ring } from "../ring/ring.ts";
import { nodeColor, renderRingSvg } from "./ring-svg.ts";
import { plural } from "./words.ts";

/** Where the page reads the cluster's state (relative to the page). */
export const STATUS_PATH = "status.json";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** "160 vnodes each (weight 1)", or, when weights differ, "160 vnodes per unit of weight (weights a=2, b=1)". */
function vnodesCaption(ring: Ring): string {
  const weights = new Set(ring.nodes.map((n) => n.weight));
  if (weights.size === 1) return `${ring.vnodes} vnodes each (weight ${[...weights][0]})`;
  return `${ring.vnodes} vnodes per unit of weight (weights ${ring.nodes.map((n) => `${n.name}=${n.weight}`).join(", ")})`;
}

export function renderClusterPage(ring: Ring, { refreshMs, sampleIds }: { refreshMs: number; sampleIds: readonly string[] }): string {
  const svg = renderRingSvg(ring.placement, sampleIds).replace(/^<\?xml[^>]*>\s*/, "");
  const colors = Object.fromEntries(ring.nodes.map((n, i) => [n.name, nodeColor(i)]));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shardctl cluster</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 76em; padding: 0 1em; color: #222; }
  h1 { font-size: 1.4em; margin: 0 0 0.2em; }
  .muted { color: #666; }
  /* the picture at its own size (its text is 12 px and up), smaller only where the window is narrower than it */
  .ring svg { display: block; max-width: 100%; height: auto; margin-top: 1.2em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3em 0.8em 0.3em 0; text-align: left; vertical-align: top; }
  td.id { white-space: nowrap; }
  td.num, th.num { text-align: right; white-space: nowrap; }
  .swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.4em; vertical-align: -0.05em; }
  .ok { color: #1a7f37; font-weight: 600; }
  .bad { color: #c62828; font-weight: 600; }
  .problem { color: #c62828; margin: 0.3em 0; overflow-wrap: anywhere; }
  #verdict { font-weight: 600; margin: 0.8em 0; }
  .bar { display: inline-block; width: 7em; height: 0.7em; background: #eee; border-radius: 3px; vertical-align: middle; margin-right: 0.4em; }
  .bar > span { display: block; height: 100%; background: #3b82f6; border-radius: 3px; }
  code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>shardctl cluster</h1>
<p class="muted">Ring <code>${escapeHtml(ring.label)}</code>, ${plural(ring.nodes.length, "node")}, ${escapeHtml(vnodesCaption(ring))}.
Checked every ${refreshMs / 1000} s; last check <span id="at">not yet</span>.</p>
<p id="verdict">Checking the nodes ...</p>
<table id="nodes">
<thead><tr><th>node</th><th class="address">address</th><th>state</th><th>ring</th>
<th class="num">records</th><th>version</th><th>db</th><th class="num">check</th><th class="rebalance">rebalance</th></tr></thead>
<tbody></tbody>
<tfoot><tr><td>total</td><td class="address"></td><td></td><td></td>
<td class="num" id="total"></td><td></td><td></td><td></td><td class="rebalance"></td></tr></tfoot>
</table>
<div id="problems"></div>
<div class="ring">${svg}</div>
<script>
(() => {
  const COLORS = ${JSON.stringify(colors)};
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const count = (n) => n.toLocaleString("en-US");
  // the words of shardctl status: ready; not ready (it answers, its database does not serve); down (no answer)
  const state = (n) => (!n.up ? "down" : n.ready ? "ready" : "not ready");
  const when = (iso) => {
    const d = new Date(iso);
    const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    return d.toDateString() === new Date().toDateString() ? time : d.toLocaleDateString([], { day: "numeric", month: "short" }) + " " + time;
  };
  function rebalanceCell(r) {
    const td = el("td", undefined, "rebalance");
    if (!r) return td;
    td.title = "rebalance " + r.job;
    const p = r.progress;
    if (r.phase === "done") {
      // finished: when, and what it did here; not "done 3,403/3,403 (done)"
      td.appendChild(el("span", "finished", "ok"));
      td.appendChild(document.createTextNode(r.finished ? " " + when(r.finished) : ""));
      if (p && p.toCopy > 0) td.appendChild(el("div", count(p.copied) + " records copied", "muted"));
      return td;
    }
    if (p && p.toCopy > 0) {
      const bar = el("span", undefined, "bar");
      const fill = el("span");
      fill.style.width = Math.min(100, (100 * p.copied) / p.toCopy).toFixed(1) + "%";
      bar.appendChild(fill);
      td.appendChild(bar);
      td.appendChild(el("span", r.phase + " " + count(p.copied) + "/" + count(p.toCopy) + " (" + p.step + ")"));
    } else td.textContent = r.phase;
    return td;
  }
  function render(s) {
    document.getElementById("at").textContent = new Date(s.at).toLocaleTimeString();
    const body = document.querySelector("#nodes tbody");
    body.replaceChildren();
    // the address says something only where it is not the node's name (host:port names); the rebalance column only during or after one
    const address = (n) => n.url.replace(/^https?:\\/\\//, "");
    const withAddress = s.nodes.some((n) => n.name !== address(n));
    const withRebalance = s.nodes.some((n) => n.rebalance);
    for (const cell of document.querySelectorAll("#nodes .address")) cell.hidden = !withAddress;
    for (const cell of document.querySelectorAll("#nodes .rebalance")) cell.hidden = !withRebalance;
    let total = 0;
    for (const n of s.nodes) {
      const tr = el("tr");
      tr.dataset.node = n.name;
      const name = el("td", undefined, "id");
      const sw = el("span", undefined, "swatch");
      sw.style.background = COLORS[n.name] || "#999";
      name.append(sw, el("span", n.name));
      tr.appendChild(name);
      if (withAddress) tr.appendChild(el("td", address(n), "id"));
      tr.appendChild(el("td", state(n), "state " + (n.up && n.ready ? "ok" : "bad")));
      tr.appendChild(el("td", n.ring ?? (n.up ? "none" : "-"), "id" + (n.up && n.agreement !== "agrees" ? " bad" : "")));
      tr.appendChild(el("td", n.records === null ? "-" : count(n.records), "num records"));
      tr.appendChild(el("td", n.version ?? "-"));
      tr.appendChild(el("td", n.database ?? "-"));
      tr.appendChild(el("td", n.latencyMs === null ? "-" : n.latencyMs.toFixed(1) + " ms", "num"));
      if (withRebalance) tr.appendChild(rebalanceCell(n.rebalance));
      body.appendChild(tr);
      if (n.records !== null) total += n.records;
    }
    document.getElementById("total").textContent = count(total);
    const bad = s.nodes.filter((n) => n.problem !== null);
    const verdict = document.getElementById("verdict");
    const nodes = s.nodes.length + (s.nodes.length === 1 ? " node" : " nodes");
    verdict.textContent = bad.length === 0 ? "All " + nodes + " up, ready and on ring " + s.ring : bad.length + " of " + nodes + " need attention";
    verdict.className = bad.length === 0 ? "ok" : "bad";
    const problems = document.getElementById("problems");
    problems.replaceChildren(...bad.map((n) => el("p", "node " + n.name + ": " + n.problem, "problem")));
  }
  async function refresh() {
    try {
      const r = await fetch(${JSON.stringify(STATUS_PATH)}, { cache: "no-store" });
      render(await r.json());
    } catch (e) {
      const verdict = document.getElementById("verdict");
      verdict.textContent = "The status command does not answer (" + e.message + "); retrying";
      verdict.className = "bad";
    }
    setTimeout(refresh, ${refreshMs});
  }
  refresh();
})();
</script>
</body>
</html>
`;
}
