// How times, amounts and text direction are shown: the shop's time zone, MAD, and bidi text.

export const DEFAULT_TIME_ZONE = "Africa/Casablanca";

const money = new Intl.NumberFormat("fr-MA", { style: "currency", currency: "MAD" });

/** Decimal strings from the APIs; the number is only for display, never for sums. */
export function formatMad(amount: string | number | null | undefined): string {
  return money.format(Number(amount ?? 0));
}

/** Exact sum of decimal strings in cents (the APIs send at most two decimals). */
export function sumCents(amounts: string[]): number {
  return amounts.reduce((total, amount) => total + toCents(amount), 0);
}

export function toCents(amount: string): number {
  const [whole, fraction = ""] = amount.trim().split(".");
  const sign = whole.startsWith("-") ? -1 : 1;
  const cents = Math.abs(Number(whole)) * 100 + Number((fraction + "00").slice(0, 2));
  return sign * cents;
}

/** A line's amount in integer centimes: never a float sum, so 3 × 19.99 is exactly 59.97. */
export function lineCents(unitPrice: string, quantity: number): number {
  return toCents(unitPrice) * Math.trunc(quantity);
}

/** An order's total in centimes: its lines plus the shipping fee. */
export function orderCents(lines: { unit_price: string; quantity: number }[], fee: string): number {
  return lines.reduce((sum, line) => sum + lineCents(line.unit_price, line.quantity), toCents(fee));
}

export function centsToString(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function parts(date: Date, timeZone: string, options: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat("fr-MA", { timeZone, ...options }).format(date);
}

function dayKey(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

/** Today: the time; otherwise the date (and the year when it is not this year). */
export function formatListTime(iso: string | null | undefined, timeZone = DEFAULT_TIME_ZONE, now = new Date()): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (dayKey(date, timeZone) === dayKey(now, timeZone)) {
    return parts(date, timeZone, { hour: "2-digit", minute: "2-digit" });
  }
  const sameYear = dayKey(date, timeZone).slice(0, 4) === dayKey(now, timeZone).slice(0, 4);
  return parts(date, timeZone, { day: "2-digit", month: "short", ...(sameYear ? {} : { year: "numeric" }) });
}

export function formatTime(iso: string | null | undefined, timeZone = DEFAULT_TIME_ZONE): string {
  return iso ? parts(new Date(iso), timeZone, { hour: "2-digit", minute: "2-digit" }) : "";
}

export function formatDate(iso: string | null | undefined, timeZone = DEFAULT_TIME_ZONE): string {
  return iso ? parts(new Date(iso), timeZone, { day: "2-digit", month: "2-digit", year: "numeric" }) : "";
}

export function formatDateTime(iso: string | null | undefined, timeZone = DEFAULT_TIME_ZONE): string {
  return iso
    ? parts(new Date(iso), timeZone, { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" })
    : "";
}

export function formatCountdown(seconds: number): string {
  if (seconds <= 0) return "0 min";
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${String(minutes).padStart(2, "0")}` : `${minutes} min`;
}

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? "");
  return letters.join("").toUpperCase() || "?";
}
