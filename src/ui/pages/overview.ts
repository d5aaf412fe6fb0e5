import { api } from '../api.js';
import type { Stats } from '../api-types.js';
import { lineChart } from '../chart.js';
import { fill, h, table } from '../dom.js';
import { ago, duration } from '../format.js';
import { StatsHistory } from '../stats-history.js';
import { heading, type Page, poll, statusLine } from './page.js';

const REFRESH_MS = 2000;
/** Five minutes of two-second intervals. */
const history = new StatsHistory(150);

export const overviewPage: Page = (view) => {
  const status = statusLine();
  const cards = h('section', { class: 'cards' });
  const charts = h('section', { class: 'charts' });
  const processes = h('section', {});
  fill(view, heading('Overview', status), cards, charts, h('h2', {}, 'Processes'), processes);
  return poll(REFRESH_MS, status, async () => {
    const stats = await api<Stats>('GET', '/v1/stats');
    history.add(stats);
    fill(cards, ...summaryCards(stats));
    fill(charts, ...chartsOf(history));
    fill(processes, processTable(stats));
  });
};

function summaryCards(stats: Stats): HTMLElement[] {
  const { depth, oldestAgeS } = stats.queue;
  const held = stats.processes.reduce((sum, report) => sum + report.receiversHeld, 0);
  const card = (label: string, value: string, note = '', tone = ''): HTMLElement =>
    h(
      'div',
      { class: `card ${tone}` },
      h('div', { class: 'card-value' }, value),
      h('div', { class: 'card-label' }, label),
      note ? h('div', { class: 'card-note' }, note) : null,
    );
  return [
    card('pending deliveries', String(depth.pending), oldestAgeS.pending > 0 ? `oldest ${duration(oldestAgeS.pending * 1000)}` : 'none waiting'),
    card(
      'waiting for a retry',
      String(depth.retrying),
      oldestAgeS.retrying > 0 ? `oldest ${duration(oldestAgeS.retrying * 1000)}` : '',
      depth.retrying > 0 ? 'warn' : '',
    ),
    card('dead letters', String(depth.dead), depth.dead > 0 ? 'replay them from Dead letters' : '', depth.dead > 0 ? 'bad' : ''),
    card('receivers being served', String(held), `lock backend: ${stats.lockBackend}`),
    card('processes', String(stats.processes.length), stats.processes.length === 0 ? 'no process reported in 6 s' : ''),
  ];
}

/** The charts' x axis starts at one minute and grows to the history's five as samples come in. */
const MIN_SLOTS = 30;

function chartsOf(stats: StatsHistory): HTMLElement[] {
  const { intervals } = stats;
  if (intervals.length === 0) return [h('p', { class: 'empty' }, 'Charts appear after two reads (2 s).')];
  const slots = Math.min(stats.size, Math.max(MIN_SLOTS, intervals.length));
  const span = `${duration(slots * REFRESH_MS)} ago`;
  return [
    lineChart(
      'Throughput',
      'per second',
      [
        { name: 'accepted', tone: 'blue', values: intervals.map((i) => i.acceptedPerS) },
        { name: 'delivered', tone: 'green', values: intervals.map((i) => i.deliveredPerS) },
        { name: 'failed', tone: 'red', values: intervals.map((i) => i.failedPerS) },
      ],
      slots,
      span,
    ),
    lineChart(
      'Acceptance → delivered',
      'ms',
      [
        { name: 'p50', tone: 'green', values: intervals.map((i) => i.lagP50Ms) },
        { name: 'p99', tone: 'orange', values: intervals.map((i) => i.lagP99Ms) },
      ],
      slots,
      span,
    ),
  ];
}

function processTable(stats: Stats): HTMLElement {
  const now = Date.parse(stats.at);
  return table(
    ['process', 'role', 'host / pid', 'version', 'up', 'receivers held', 'accepted', 'delivered', 'failed', 'last report'],
    stats.processes.map((report) => [
      h('span', { class: 'mono' }, report.id),
      report.role,
      `${report.host} / ${report.pid}`,
      report.version,
      duration(now - Date.parse(report.startedAt)),
      report.receiversHeld,
      report.accepted,
      report.attempts.delivered,
      report.attempts.failed + report.attempts.dead + report.attempts.gone,
      ago(report.reportedAt, now),
    ]),
    'No Lockstep process has reported in the last 6 s.',
  );
}
