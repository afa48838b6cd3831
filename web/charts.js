/*
 * charts.js: the two charts of the staff console's "Today" tab, drawn as
 * inline SVG with DOM calls (TQ.svg), no library:
 *
 *   TQ.charts.hours([24 ints])     orders per local clock hour, as bars
 *   TQ.charts.prep({count, p50, p90, max})   preparation time, as bars
 *
 * Colours and type come from staff.css (.chart ...).
 */
'use strict';

(function () {
  /** Bar chart of orders per local hour, as inline SVG. */
  function hourChart(hours) {
    const W = 720, H = 250, L = 36, R = 8, T = 24, B = 30;
    const max = Math.max(1, ...hours);
    const step = niceStep(max);
    const top = Math.ceil(max / step) * step;
    const bw = (W - L - R) / 24;
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const svg = TQ.svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'hours', role: 'img', 'aria-label': 'Orders per hour: ' + hours.map((v, h) => (v ? h + ':00 ' + v : '')).filter(Boolean).join(', ') });
    for (let v = 0; v <= top; v += step) {
      svg.appendChild(TQ.svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
      svg.appendChild(TQ.svg('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
    }
    const nowHour = new Date().getHours();
    for (let h = 0; h < 24; h++) {
      const v = Number(hours[h]) || 0;
      const x = L + h * bw;
      if (v > 0) {
        svg.appendChild(TQ.svg('rect', { x: x + 2, y: y(v), width: bw - 4, height: y(0) - y(v), rx: 2, class: 'bar' + (h === nowHour ? ' now' : '') }, TQ.svg('title', null, h + ':00–' + (h + 1) + ':00: ' + v)));
        svg.appendChild(TQ.svg('text', { x: x + bw / 2, y: y(v) - 4, class: 'value', 'text-anchor': 'middle' }, String(v)));
      }
      if (h % 3 === 0) svg.appendChild(TQ.svg('text', { x: x + bw / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' }, String(h).padStart(2, '0')));
    }
    return svg;
  }

  function niceStep(max) {
    for (const s of [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]) if (max / s <= 5) return s;
    return Math.ceil(max / 5);
  }

  /** Horizontal bars for the median, 90th percentile and slowest prep time. */
  function prepChart(p) {
    const W = 720, H = 190, L = 178, R = 96;
    const svg = TQ.svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'prep', role: 'img' });
    if (!p || !p.count) {
      svg.setAttribute('aria-label', 'No preparation times yet');
      svg.appendChild(TQ.svg('text', { x: W / 2, y: H / 2, class: 'empty', 'text-anchor': 'middle' }, 'No order has been ready yet today.'));
      return svg;
    }
    const rowsData = [
      ['Median', p.p50, 'p50'],
      ['90th percentile', p.p90, 'p90'],
      ['Slowest', p.max, 'max'],
    ];
    const max = Math.max(1, p.max || 0, p.p90 || 0, p.p50 || 0);
    svg.setAttribute('aria-label', rowsData.map((r) => r[0] + ' ' + TQ.duration(r[1])).join(', '));
    rowsData.forEach(([label, v, cls], i) => {
      const yy = 14 + i * 50;
      const w = ((W - L - R) * (Number(v) || 0)) / max;
      svg.appendChild(TQ.svg('text', { x: L - 12, y: yy + 21, class: 'label', 'text-anchor': 'end' }, label));
      svg.appendChild(TQ.svg('rect', { x: L, y: yy, width: W - L - R, height: 30, rx: 4, class: 'track' }));
      svg.appendChild(TQ.svg('rect', { x: L, y: yy, width: Math.max(2, w), height: 30, rx: 4, class: 'bar ' + cls }));
      svg.appendChild(TQ.svg('text', { x: L + Math.max(2, w) + 8, y: yy + 21, class: 'value' }, TQ.duration(v)));
    });
    svg.appendChild(TQ.svg('text', { x: L, y: H - 6, class: 'axis' }, 'from ' + p.count + (p.count === 1 ? ' order' : ' orders') + ' that reached Ready'));
    return svg;
  }

  TQ.charts = { hours: hourChart, prep: prepChart };
})();
