/**
 * A small SVG line chart: enough for accuracy-over-time figures, with no
 * browser, canvas or native binary, so the harness can draw its own plots in
 * plain Node. Output is deterministic text (numbers rounded), so regenerated
 * figures only change when the data does.
 */

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Optional band (e.g. min and max over seeds) drawn under the line. */
  readonly band?: readonly (readonly [number, number, number])[];
  readonly dashed?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** The lowest value the y axis shows at least; it extends lower when the data does. */
  readonly yMin?: number;
  readonly yMax?: number;
  readonly width?: number;
  readonly height?: number;
  /** Log-scaled x axis (for worker counts, densities). */
  readonly logX?: boolean;
}

/** A colour-blind-friendly palette (Okabe-Ito, then Tol's muted). */
const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#882255',
  '#999933',
  '#44AA99',
  '#AA4499',
];

const MARGIN = { left: 60, right: 230, top: 36, bottom: 46 };

function fmt(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round tick steps: 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  // Integer multiples of the step, printed at 12 significant digits, so 0.6 stays 0.6.
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return ticks;
}

function tickLabel(value: number): string {
  if (value !== 0 && (Math.abs(value) >= 1e4 || Math.abs(value) < 1e-2)) {
    return value.toExponential(0);
  }
  return Number(value.toPrecision(4)).toString();
}

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 420;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => [
    ...s.points.map((p) => p[1]),
    ...(s.band ?? []).flatMap((b) => [b[1], b[2]]),
  ]);
  const tx = (x: number): number => (options.logX ? Math.log10(x) : x);
  const xMin = Math.min(...xs.map(tx));
  const xMax = Math.max(...xs.map(tx));
  // Never clamp data to the axis: a 16% run drawn on a 50% floor reads as 50%.
  const yMin = Math.min(options.yMin ?? Infinity, ...ys);
  const yMax = options.yMax ?? Math.max(...ys);
  const sx = (x: number): number => MARGIN.left + ((tx(x) - xMin) / (xMax - xMin || 1)) * plotW;
  const sy = (y: number): number =>
    MARGIN.top + plotH - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin || 1)) * plotH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  const xTicks = options.logX ? [...new Set(xs)].sort((a, b) => a - b) : niceTicks(xMin, xMax, 8);
  for (const tick of xTicks) {
    const x = fmt(sx(tick));
    parts.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${tickLabel(tick)}</text>`,
    );
  }
  for (const tick of niceTicks(yMin, yMax, 6)) {
    const y = fmt(sy(tick));
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    if (s.band && s.band.length > 1) {
      const upper = s.band.map((b) => `${fmt(sx(b[0]))},${fmt(sy(b[2]))}`);
      const lower = [...s.band].reverse().map((b) => `${fmt(sx(b[0]))},${fmt(sy(b[1]))}`);
      parts.push(
        `<polygon points="${[...upper, ...lower].join(' ')}" fill="${colour}" fill-opacity="0.12" stroke="none"/>`,
      );
    }
    const path = s.points.map((p) => `${fmt(sx(p[0]))},${fmt(sy(p[1]))}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (s.points.length <= 12) {
      for (const p of s.points) {
        parts.push(
          `<circle cx="${fmt(sx(p[0]))}" cy="${fmt(sy(p[1]))}" r="2.5" fill="${colour}"/>`,
        );
      }
    }
    const ly = MARGIN.top + 10 + i * 18;
    const lx = MARGIN.left + plotW + 12;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${colour}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
