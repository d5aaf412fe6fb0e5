/** How times and durations read on the dashboard. */

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  return ms >= 0 ? `${duration(ms)} ago` : `in ${duration(-ms)}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return twoUnits(ms, 60_000, 'min', 1000, 's');
  if (ms < 86_400_000) return twoUnits(ms, 3_600_000, 'h', 60_000, 'min');
  return twoUnits(ms, 86_400_000, 'd', 3_600_000, 'h');
}

/** "2 min 5 s", or "2 min" when the smaller unit rounds to nothing. */
function twoUnits(ms: number, big: number, bigName: string, small: number, smallName: string): string {
  const rest = Math.floor((ms % big) / small);
  return `${Math.floor(ms / big)} ${bigName}${rest > 0 ? ` ${rest} ${smallName}` : ''}`;
}

export function time(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function excerpt(text: string | undefined | null, length = 160): string {
  if (!text) return '';
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
