/**
 * The cluster page of `shardctl status --web PORT`: the ring as `ring draw` pictures it,
 * and a table of the nodes (up, ready, ring held, records, version, database, check time,
 * a rebalance's progress) that the page's script fills from `status.json` every few
 * seconds. Everything is in the page: no script, style or font from anywhere else.
 */
import type { Ring } from "../ring/ring.ts";
import { nodeColor, renderRingSvg } from "./ring-svg.ts";

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
  body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; }
  h1 { font-size: 1.4em; margin: 0 0 0.2em; }
  .muted { color: #666; }
  .ring svg { width: 46em; max-width: 100%; height: auto; margin-top: 1em; }
  table { border-collapse: collapse; }
  th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3em 0.8em 0.3em 0; text-align: left; white-space: nowrap; }
  td.num, th.num { text-align: right; }
  .swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.4em; vertical-align: -0.05em; }
  .ok { color: #1a7f37; font-weight: 600; }
  .bad { color: #c62828; font-weight: 600; }
  .problem { color: #c62828; white-space: normal; max-width: 24em; }
  #verdict { font-weight: 600; margin: 0.8em 0; }
  .bar { display: inline-block; width: 7em; height: 0.7em; background: #eee; border-radius: 3px; vertical-align: middle; margin-right: 0.4em; }
  .bar > span { display: block; height: 100%; background: #3b82f6; border-radius: 3px; }
  code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>shardctl cluster</h1>
<p class="muted">Ring <code>${escapeHtml(ring.label)}</code>, ${ring.nodes.length} nodes, ${escapeHtml(vnodesCaption(ring))}.
Checked every ${refreshMs / 1000} s; last check <span id="at">not yet</span>.</p>
<p id="verdict">Checking the nodes ...</p>
<table id="nodes">
<thead><tr><th>node</th><th>url</th><th>up</th><th>ready</th><th>ring</th>
<th class="num">records</th><th>version</th><th>db</th><th class="num">check</th><th>rebalance</th></tr></thead>
<tbody></tbody>
<tfoot><tr><td>total</td><td></td><td></td><td></td><td></td>
<td class="num" id="total"></td><td></td><td></td><td></td><td></td></tr></tfoot>
</table>
<div id="problems"></div>
<div class="ring">${svg}</div>
<script>
(() => {
  const COLORS = ${JSON.stringify(colors)};
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const count = (n) => n.toLocaleString("en-US");
  const yes = (b) => el("span", b ? "yes" : "no", b ? "ok" : "bad");
  function rebalanceCell(r) {
    const td = el("td");
    if (!r) return td;
    const p = r.progress;
    if (p && p.toCopy > 0) {
      const bar = el("span", undefined, "bar");
      const fill = el("span");
      fill.style.width = Math.min(100, (100 * p.copied) / p.toCopy).toFixed(1) + "%";
      bar.appendChild(fill);
      td.appendChild(bar);
      td.appendChild(el("span", r.phase + " " + count(p.copied) + "/" + count(p.toCopy) + " (" + p.step + ")"));
    } else td.textContent = r.phase;
    td.title = "rebalance " + r.job;
    return td;
  }
  function render(s) {
    document.getElementById("at").textContent = new Date(s.at).toLocaleTimeString();
    const body = document.querySelector("#nodes tbody");
    body.replaceChildren();
    let total = 0;
    for (const n of s.nodes) {
      const tr = el("tr");
      tr.dataset.node = n.name;
      const name = el("td");
      const sw = el("span", undefined, "swatch");
      sw.style.background = COLORS[n.name] || "#999";
      name.append(sw, el("span", n.name));
      tr.appendChild(name);
      tr.appendChild(el("td", n.url));
      tr.appendChild(el("td")).appendChild(yes(n.up));
      tr.appendChild(el("td")).appendChild(n.up ? yes(n.ready) : el("span", "-"));
      tr.appendChild(el("td", n.ring ?? (n.up ? "none" : "-"), n.up && n.agreement !== "agrees" ? "bad" : undefined));
      tr.appendChild(el("td", n.records === null ? "-" : count(n.records), "num records"));
      tr.appendChild(el("td", n.version ?? "-"));
      tr.appendChild(el("td", n.database ?? "-"));
      tr.appendChild(el("td", n.latencyMs === null ? "-" : n.latencyMs.toFixed(1) + " ms", "num"));
      tr.appendChild(rebalanceCell(n.rebalance));
      body.appendChild(tr);
      if (n.records !== null) total += n.records;
    }
    document.getElementById("total").textContent = count(total);
    const bad = s.nodes.filter((n) => n.problem !== null);
    const verdict = document.getElementById("verdict");
    verdict.textContent = bad.length === 0
      ? "All " + s.nodes.length + " nodes up, ready and on ring " + s.ring
      : bad.length + " of " + s.nodes.length + " nodes need attention";
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
