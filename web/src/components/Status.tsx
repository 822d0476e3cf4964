import { Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';

/**
 * Tag colours dark enough for white text to pass WCAG AA (antd's light preset tags do not).
 */
export const TONE = {
  blue: '#0050b3',
  purple: '#531dab',
  cyan: '#006d75',
  indigo: '#1d39c4',
  amber: '#874d00',
  green: '#237804',
  red: '#a8071a',
  orange: '#ad4e00',
} as const;

const COLOURS: Record<Schemas['OrderStatusName'], string | undefined> = {
  new: TONE.blue,
  published: TONE.purple,
  dispatched: TONE.cyan,
  in_progress: TONE.indigo,
  delivered: TONE.amber,
  accepted: TONE.green,
  closed: undefined,
  cancelled: undefined,
  disputed: TONE.red,
};

export function OrderStatus({ status }: { status: Schemas['OrderStatusName'] }) {
  const { t } = useTranslation();
  return <Tag color={COLOURS[status]}>{t(`orderStatus.${status}`)}</Tag>;
}
