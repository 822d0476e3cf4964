import { describe, expect, it } from 'vitest';
import { date, dateTime, daysUntil, money, percentToRate, rate } from './format';

describe('money', () => {
  it('groups thousands and keeps two decimals', () => {
    expect(money('40000.00')).toBe('¥40,000.00');
    expect(money('1234567.5')).toBe('¥1,234,567.50');
    expect(money('0')).toBe('¥0.00');
    expect(money('999')).toBe('¥999.00');
  });
  it('keeps the sign of refunds and never prints -0', () => {
    expect(money('-12.5')).toBe('-¥12.50');
    expect(money('-0.00')).toBe('¥0.00');
  });
  it('never goes through a float', () => {
    // 2^53 + 1 is not representable as a double
    expect(money('9007199254740993.01')).toBe('¥9,007,199,254,740,993.01');
  });
  it('shows what is not a decimal as it came, and a dash for nothing', () => {
    expect(money(null)).toBe('—');
    expect(money('')).toBe('—');
    expect(money('abc')).toBe('abc');
  });
});

describe('rate', () => {
  it('moves the decimal point exactly', () => {
    expect(rate('0.40')).toBe('40%');
    expect(rate('0.125')).toBe('12.5%');
    expect(rate('1')).toBe('100%');
    expect(rate('0.05')).toBe('5%');
    expect(rate('0.0725')).toBe('7.25%');
  });
  it('turns a typed percentage back into the API fraction', () => {
    expect(percentToRate('40')).toBe('0.40');
    expect(percentToRate('12.5')).toBe('0.125');
    expect(percentToRate('100')).toBe('1.00');
    expect(percentToRate('7')).toBe('0.07');
    expect(percentToRate('-3')).toBeNull();
    expect(percentToRate('x')).toBeNull();
  });
  it('round-trips', () => {
    for (const p of ['40', '12.5', '7.25', '100', '0.5']) {
      const r = percentToRate(p);
      expect(r).not.toBeNull();
      expect(rate(r)).toBe(`${p}%`);
    }
  });
});

describe('dates', () => {
  it('shows instants in Asia/Shanghai', () => {
    expect(dateTime('2026-12-05T16:30:00Z')).toBe('2026-12-06 00:30');
    expect(date('2026-12-05T16:30:00Z')).toBe('2026-12-06');
    expect(date('2026-12-05')).toBe('2026-12-05');
  });
  it('counts days', () => {
    expect(daysUntil('2026-12-08', '2026-12-06')).toBe(2);
    expect(daysUntil('2026-12-01', '2026-12-06')).toBe(-5);
  });
});
