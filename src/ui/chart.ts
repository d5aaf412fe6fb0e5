/** A small SVG line chart: one line per series over the same sample times, y from zero. */

const SVG = 'http://www.w3.org/2000/svg';

export interface Series {
  name: string;
  /** CSS class giving the line its colour (see app.css). */
  tone: string;
  values: (number | null)[];
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** `slots`: how many samples the x axis holds, the newest at the right; `span`: what that covers, said under its left end. */
export function lineChart(title: string, unit: string, series: Series[], slots: number, span: string): HTMLElement {
  const [width, height, left, bottom] = [520, 150, 44, 18];
  const known = series.flatMap((line) => line.values.filter((value): value is number => value !== null));
  const top = niceCeiling(Math.max(1, ...known));
  const x = (index: number): number => left + (index / Math.max(1, slots - 1)) * (width - left - 8);
  const y = (value: number): number => 8 + (1 - value / top) * (height - bottom - 8);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  for (const fraction of [0, 0.5, 1]) {
    chart.append(svg('line', { x1: left, x2: width - 8, y1: y(top * fraction), y2: y(top * fraction), class: 'grid' }));
    const label = svg('text', { x: left - 6, y: y(top * fraction) + 4, class: 'axis', 'text-anchor': 'end' });
    label.textContent = formatValue(top * fraction);
    chart.append(label);
  }
  const footer = svg('text', { x: width - 8, y: height - 2, class: 'axis', 'text-anchor': 'end' });
  footer.textContent = 'now';
  const start = svg('text', { x: left, y: height - 2, class: 'axis' });
  start.textContent = span;
  chart.append(footer, start);
  for (const line of series) {
    const offset = slots - line.values.length;
    const points = line.values.flatMap((value, index) => (value === null ? [] : [`${x(offset + index).toFixed(1)},${y(value).toFixed(1)}`]));
    if (points.length > 1) chart.append(svg('polyline', { points: points.join(' '), class: `line ${line.tone}` }));
    const [lastX, lastY] = points.at(-1)?.split(',') ?? [];
    if (lastX && lastY) chart.append(svg('circle', { cx: lastX, cy: lastY, r: 3, class: `dot ${line.tone}` }));
  }
  const figure = document.createElement('figure');
  figure.className = 'chart-box';
  const caption = document.createElement('figcaption');
  caption.append(`${title} (${unit}) `);
  for (const line of series) {
    const last = line.values.at(-1);
    const key = document.createElement('span');
    key.className = `key ${line.tone}`;
    key.textContent = `${line.name} ${last === null || last === undefined ? '—' : formatValue(last)}`;
    caption.append(key);
  }
  figure.append(caption, chart);
  return figure;
}

function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value) ?? value;
}

function formatValue(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`;
  return value >= 10 || value === 0 ? String(Math.round(value)) : value.toFixed(1);
}
