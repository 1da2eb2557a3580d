import { formatMoney } from '../api';

export interface Series {
  key: string;
  /** Sum per period, minor units. */
  values: Map<string, bigint>;
}

const COLOURS = ['#0b57d0', '#b3261e', '#146c2e', '#8a4f00', '#6b2fa3', '#00696f', '#5f6368'];

/**
 * Grouped bars per period, drawn in SVG; the same numbers follow in a table (for screen readers,
 * and to read exact values). Heights are computed with numbers, the labels from the exact bigints.
 */
export function BarChart({ title, periods, series, currency }: { title: string; periods: string[]; series: Series[]; currency: string }) {
  const max = series.reduce((top, s) => [...s.values.values()].reduce((m, v) => (v > m ? v : m), top), 0n);
  const width = 640;
  const height = 220;
  const groupWidth = periods.length === 0 ? width : (width - 40) / periods.length;
  const barWidth = series.length === 0 ? 0 : Math.min(48, Math.max(2, (groupWidth - 8) / series.length));
  const scale = (value: bigint): number => (max === 0n ? 0 : Number((value * 1000n) / max) / 1000) * (height - 40);
  return (
    <figure className="chart">
      <figcaption>
        <strong>{title}</strong> ({currency})
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: bar chart; the table below has the numbers`}>
        <line x1={30} y1={height - 20} x2={width} y2={height - 20} stroke="#5f6368" />
        {periods.map((period, p) => (
          <g key={period}>
            {series.map((s, i) => {
              const value = s.values.get(period) ?? 0n;
              const h = scale(value);
              return (
                <rect key={s.key} x={34 + p * groupWidth + i * barWidth} y={height - 20 - h} width={barWidth - 1} height={h} fill={COLOURS[i % COLOURS.length]}>
                  <title>{`${period} ${s.key}: ${formatMoney({ amount: value.toString(), currency })}`}</title>
                </rect>
              );
            })}
            <text x={34 + p * groupWidth} y={height - 4} fontSize="11" fill="#1c1e21">
              {period}
            </text>
          </g>
        ))}
      </svg>
      <ul className="legend">
        {series.map((s, i) => (
          <li key={s.key}>
            <span className="swatch" style={{ background: COLOURS[i % COLOURS.length] }} aria-hidden="true" />
            {s.key}
          </li>
        ))}
      </ul>
      <table>
        <caption>{title}: the numbers</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {series.map((s) => (
              <th key={s.key} scope="col" className="amount">
                {s.key}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {periods.map((period) => (
            <tr key={period}>
              <th scope="row">{period}</th>
              {series.map((s) => (
                <td key={s.key} className="amount" data-series={s.key} data-period={period} data-minor={(s.values.get(period) ?? 0n).toString()}>
                  {formatMoney({ amount: (s.values.get(period) ?? 0n).toString(), currency })}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
