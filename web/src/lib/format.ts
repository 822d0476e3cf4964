// Money, rates and dates as people read them. Amounts arrive from the API as decimal strings
// ("40000.00") and are formatted as strings: never through a float.

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Thousands separators on the integer part of a decimal string: "1234567" → "1,234,567". */
function group(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "40000.00" → "¥40,000.00"; "-12.5" → "-¥12.50". Anything that is not a decimal is shown as it came. */
export function money(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const m = DECIMAL.exec(value.trim());
  if (!m) return value;
  const [, sign, int = '0', frac = ''] = m;
  const cents = (frac + '00').slice(0, 2);
  const digits = int.replace(/^0+(?=\d)/, '');
  const negative = sign === '-' && /[1-9]/.test(digits + cents);
  return `${negative ? '-' : ''}¥${group(digits)}.${cents}`;
}

/** A rate as a percentage: "0.40" → "40%", "0.125" → "12.5%". Exact: moves the decimal point in the string. */
export function rate(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const m = DECIMAL.exec(value.trim());
  if (!m) return value;
  const [, sign = '', int = '0', frac = ''] = m;
  const padded = (frac + '00').slice(0, Math.max(2, frac.length));
  const whole = (int + padded.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = padded.slice(2).replace(/0+$/, '');
  return `${sign}${whole}${rest ? '.' + rest : ''}%`;
}

/** A rate typed as a percentage ("40", "12.5") as the API's decimal fraction ("0.40", "0.125"). */
export function percentToRate(percent: string): string | null {
  const m = DECIMAL.exec(percent.trim());
  if (!m || m[1]) return null;
  const [, , int = '0', frac = ''] = m;
  const padded = int.padStart(3, '0');
  const head = padded.slice(0, -2).replace(/^0+(?=\d)/, '');
  const tail = (padded.slice(-2) + frac).replace(/0+$/, '');
  return `${head}.${tail.padEnd(2, '0')}`;
}

const SHANGHAI = 'Asia/Shanghai';

function parts(iso: string): Record<string, string> | null {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: SHANGHAI,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return Object.fromEntries(fmt.formatToParts(d).map((p) => [p.type, p.value]));
}

/** A calendar date ("2026-12-05") or an instant's date in Asia/Shanghai. */
export function date(value: string | null | undefined): string {
  if (!value) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const p = parts(value);
  return p ? `${p.year}-${p.month}-${p.day}` : value;
}

/** An instant in Asia/Shanghai: "2026-12-05 16:30". */
export function dateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const p = parts(value);
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : value;
}

/** Whole days from `today` to `day` (both "YYYY-MM-DD"); negative when past. */
export function daysUntil(day: string, today: string): number {
  const a = Date.parse(`${today}T00:00:00Z`);
  const b = Date.parse(`${day}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000);
}

/** Today's date in Asia/Shanghai. */
export function todayInShanghai(now: Date = new Date()): string {
  return date(now.toISOString());
}
