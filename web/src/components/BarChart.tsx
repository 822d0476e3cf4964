// ECharts, imported piece by piece (the bar chart and what it draws with), and only on the
// screens that draw one: the login page never pays for it.
import { BarChart as Bars } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([Bars, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export type Series = { name: string; values: number[] };

/** Grouped bars: one group per label, one bar per series. Values are yuan (for drawing only). */
export function BarChart({ labels, series, label, height = 320 }: { labels: string[]; series: Series[]; label: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    chart.setOption({
      color: ['#1f4e8c', '#d46b08', '#389e0d', '#722ed1'],
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: labels },
      yAxis: { type: 'value' },
      series: series.map((s) => ({ type: 'bar', name: s.name, data: s.values })),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [labels, series]);
  return <div ref={el} role="img" aria-label={label} style={{ width: '100%', height }} />;
}
