import { Progress } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';

const PARTS = ['quality', 'on_time', 'capacity', 'region', 'industry'] as const;

/** A candidate's score as bars of its parts: each part (0–1000 ‰) weighted into points of its weight. */
export function ScoreBars({ parts, weights }: { parts: Schemas['PartsView']; weights: Schemas['WeightsView'] }) {
  const { t } = useTranslation();
  return (
    <div>
      {PARTS.map((p) => {
        return (
          <div className="score-bar" key={p}>
            <span>{t(`orders.parts.${p}`)}</span>
            <Progress percent={Math.round(parts[p] / 10)} showInfo={false} size="small" aria-label={t(`orders.parts.${p}`)} />
            <span className="num">
              {((parts[p] * weights[p]) / 1000).toFixed(1)}/{weights[p]}
            </span>
          </div>
        );
      })}
    </div>
  );
}
