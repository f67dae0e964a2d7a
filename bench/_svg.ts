import type { Plot } from "./_report.ts";

const W = 640;
const H = 360;
const M = { left: 60, right: 20, top: 36, bottom: 48 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

/** One named series of points. */
export interface Series {
  label: string;
  points: [number, number][];
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

/** Round tick steps (1, 2, 5 × 10^n) covering [0, max]. */
function ticks(max: number, count = 5): number[] {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) {
    out.push(Number(v.toPrecision(6)));
  }
  return out;
}

/** A line chart with axes, ticks and a legend, as an SVG string. */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  options: { xMax?: number; yMax?: number; markers?: boolean } = {},
): string {
  const all = series.flatMap((s) => s.points);
  const xs = ticks(options.xMax ?? Math.max(...all.map((p) => p[0])));
  const ys = ticks(options.yMax ?? Math.max(...all.map((p) => p[1])));
  const xMax = xs[xs.length - 1];
  const yMax = ys[ys.length - 1];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number) => M.left + (Math.min(x, xMax) / xMax) * pw;
  const py = (y: number) => M.top + ph - (Math.min(y, yMax) / yMax) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${
      esc(title)
    }</text>`,
  ];
  for (const x of xs) {
    parts.push(
      `<line x1="${px(x)}" y1="${M.top}" x2="${px(x)}" y2="${
        M.top + ph
      }" stroke="#eee"/>`,
      `<text x="${px(x)}" y="${
        M.top + ph + 14
      }" text-anchor="middle">${x}</text>`,
    );
  }
  for (const y of ys) {
    parts.push(
      `<line x1="${M.left}" y1="${py(y)}" x2="${M.left + pw}" y2="${
        py(y)
      }" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${py(y) + 4}" text-anchor="end">${y}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${
      esc(xLabel)
    }</text>`,
    `<text transform="translate(16 ${
      M.top + ph / 2
    }) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map(([x, y]) =>
      `${px(x).toFixed(1)},${py(y).toFixed(1)}`
    ).join(" ");
    parts.push(
      `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`,
    );
    if (options.markers) {
      for (const [x, y] of s.points) {
        parts.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${
            py(y).toFixed(1)
          }" r="3" fill="${color}"/>`,
        );
      }
    }
    const ly = M.top + 14 + i * 16;
    parts.push(
      `<line x1="${M.left + pw - 210}" y1="${ly - 4}" x2="${
        M.left + pw - 190
      }" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${M.left + pw - 184}" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>\n");
  return parts.join("\n");
}

/** Cumulative distributions of latency samples (ms), cut at the largest p99. */
export function latencyPlot(
  file: string,
  title: string,
  sets: { label: string; samples: number[] }[],
): Plot {
  const series = sets.map(({ label, samples }) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      label,
      points: sorted.map((v, i) =>
        [v, (i + 1) / sorted.length] as [number, number]
      ),
    };
  });
  const p99 = Math.max(
    ...sets.map(({ samples }) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    }),
  );
  return {
    file,
    caption: `${title} (cumulative; x cut at the largest p99)`,
    svg: lineChart(title, "milliseconds", "fraction of starts", series, {
      xMax: p99,
      yMax: 1,
    }),
  };
}
