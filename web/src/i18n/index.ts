import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import en from './en';
import zh from './zh-CN';

export type Locale = 'zh-CN' | 'en';
export const LOCALES: Locale[] = ['zh-CN', 'en'];
const KEY = 'vpark.locale';

export function savedLocale(): Locale {
  const v = localStorage.getItem(KEY);
  return v === 'en' ? 'en' : 'zh-CN';
}

void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zh }, en: { translation: en } },
  lng: savedLocale(),
  fallbackLng: false,
  interpolation: { escapeValue: false },
  returnNull: false,
});

/** Switches the console's language: i18next, dayjs (antd's dates) and the page's `lang` together. */
export function setLocale(locale: Locale): void {
  localStorage.setItem(KEY, locale);
  dayjs.locale(locale === 'en' ? 'en' : 'zh-cn');
  document.documentElement.lang = locale;
  void i18n.changeLanguage(locale);
}

setLocale(savedLocale());

export default i18n;
