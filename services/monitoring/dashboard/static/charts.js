// Small SVG charts, drawn here rather than by a library: horizontal bars (a label above each bar, so long
// Thai names need no rotation) with an optional target line, and one stacked bar with its legend.
// Every bar is a <rect class="bar"> (stacked: class="segment") carrying its value in data-value.

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const VALUE_ROOM = 120; // right of the longest bar, for its value
const ROW = 44;
const LABEL = 19;
const BAR = 16;

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

const graphemes = new Intl.Segmenter("th", {granularity: "grapheme"});

/** At most `limit` characters, cut between graphemes (never between a Thai consonant and its vowel mark). */
export function clip(text, limit) {
  const parts = Array.from(graphemes.segment(text), (s) => s.segment);
  return parts.length <= limit ? text : `${parts.slice(0, limit - 1).join("")}…`;
}

/**
 * rows: [{label, value, note?, kind?}] (kind becomes a class, e.g. "short" or "cancelled");
 * format(value) writes a value; target draws a dashed line at that value, named targetLabel.
 */
export function barChart(rows, {title, format = String, target = null, targetLabel = ""}) {
  const plot = WIDTH - VALUE_ROOM;
  const max = Math.max(target ?? 0, ...rows.map((row) => row.value)) || 1;
  const targetRoom = target === null ? 0 : 22;
  const height = rows.length * ROW + targetRoom;
  const chart = svg("svg", {viewBox: `0 0 ${WIDTH} ${height}`, class: "bar-chart", role: "img", "aria-label": title});
  rows.forEach((row, i) => {
    const top = i * ROW;
    const width = row.value > 0 ? Math.max((row.value / max) * plot, 2) : 0;
    const kind = row.kind ?? "";
    const bar = svg("rect", {x: 0, y: top + LABEL + 2, width, height: BAR, rx: 2, class: `bar ${kind}`.trim(),
      "data-value": row.value});
    bar.append(svg("title", {}, `${row.label}: ${format(row.value)}`));
    const label = svg("text", {x: 0, y: top + 14, class: "label"}, clip(row.label, 70));
    label.append(svg("title", {}, row.label));
    chart.append(label, bar,
      svg("text", {x: width + 6, y: top + LABEL + 14, class: "value"}, row.note ?? format(row.value)));
  });
  if (target !== null) {
    const x = (target / max) * plot;
    chart.append(
      svg("line", {x1: x, x2: x, y1: 0, y2: height - targetRoom + 4, class: "target"}),
      svg("text", {x, y: height - 4, class: "target-label", "text-anchor": "middle"}, targetLabel));
  }
  return chart;
}

/** segments: [{label, en, value, kind}]; one bar of their shares, and a legend with each count. */
export function stackedBar(segments, {title}) {
  const total = segments.reduce((sum, s) => sum + s.value, 0);
  const chart = svg("svg", {viewBox: `0 0 ${WIDTH} 28`, preserveAspectRatio: "none", class: "stacked-chart",
    role: "img", "aria-label": title});
  let x = 0;
  for (const segment of segments.filter((s) => s.value > 0)) {
    const width = (segment.value / total) * WIDTH;
    const rect = svg("rect", {x, y: 0, width, height: 28, class: `segment ${segment.kind}`,
      "data-value": segment.value});
    rect.append(svg("title", {}, `${segment.label} (${segment.en}): ${segment.value}`));
    chart.append(rect);
    x += width;
  }
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const segment of segments) {
    const item = document.createElement("li");
    item.className = segment.kind;
    item.dataset.value = segment.value;
    const english = document.createElement("span");
    english.className = "en";
    english.textContent = segment.en;
    const value = document.createElement("strong");
    value.textContent = segment.value;
    item.append(`${segment.label} `, english, " ", value);
    legend.append(item);
  }
  const both = document.createDocumentFragment();
  both.append(chart, legend);
  return both;
}
