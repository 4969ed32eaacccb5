// The cycle's chart: the daily bars it analysed as candlesticks (dates in New York), volume, the
// indicator values it decided on as labelled price lines, and markers for the decision and the fill.
(() => {
  'use strict';
  const TL = window.TL;
  const INDICATOR_LINES = [
    ['ema10', '#d0a93a'], ['sma50', '#4c9aff'], ['sma200', '#b48cff'], ['vwma20', '#7ee2a8'],
    ['bb_upper', '#8a96a6'], ['bb_middle', '#5d6b7d'], ['bb_lower', '#8a96a6'],
  ];
  const nyDay = (iso) => new Date(iso).toLocaleDateString('en-CA', { timeZone: TL.NY_ZONE });

  /** Draws into `el`; returns what it drew (the page test reads it from the element's data attributes). */
  TL.drawJobChart = function drawJobChart(el, data) {
    const LWC = window.LightweightCharts;
    if (!LWC) { el.innerHTML = '<p class="muted">chart library not loaded</p>'; return null; }
    el.innerHTML = '';
    const chart = LWC.createChart(el, {
      autoSize: true,
      layout: { background: { color: '#11171d' }, textColor: '#d7dde5' },
      grid: { vertLines: { color: '#1d2630' }, horzLines: { color: '#1d2630' } },
      rightPriceScale: { borderColor: '#263040' }, timeScale: { borderColor: '#263040', rightOffset: 14 },
    });
    const candles = chart.addSeries(LWC.CandlestickSeries, { upColor: '#2fbf71', downColor: '#e5484d', borderVisible: false, wickUpColor: '#2fbf71', wickDownColor: '#e5484d' });
    const bars = data.bars.map((b) => ({ time: nyDay(b.t), open: b.o, high: b.h, low: b.l, close: b.c }));
    candles.setData(bars);
    const volume = chart.addSeries(LWC.HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, color: '#2a3644' });
    chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    volume.setData(data.bars.map((b) => ({ time: nyDay(b.t), value: b.v })));

    const lines = [];
    for (const [name, color] of INDICATOR_LINES) {
      const v = data.indicators[name];
      if (typeof v !== 'number') continue;
      candles.createPriceLine({ price: v, color, lineWidth: 1, lineStyle: LWC.LineStyle.Dashed, axisLabelVisible: true, title: name });
      lines.push(name);
    }
    // The decision sits on the session it was made for (the last bar the cycle saw).
    const at = bars.some((b) => b.time === data.date) ? data.date : bars[bars.length - 1].time;
    const shape = { BUY: ['arrowUp', 'belowBar', '#2fbf71'], SELL: ['arrowDown', 'aboveBar', '#e5484d'], HOLD: ['circle', 'aboveBar', '#d0a93a'] }[data.decision];
    const markers = [{ time: at, shape: shape[0], position: shape[1], color: shape[2], text: `${data.decision}${data.price != null ? ' @ ' + data.price.toFixed(2) : ''}` }];
    if (data.fill) {
      markers.push({ time: at, shape: 'square', position: 'atPriceMiddle', price: data.fill.price, color: '#4c9aff', text: `fill ${data.fill.side} ${data.fill.quantity} @ ${data.fill.price.toFixed(2)}` });
      candles.createPriceLine({ price: data.fill.price, color: '#4c9aff', lineWidth: 2, lineStyle: LWC.LineStyle.Solid, axisLabelVisible: true, title: 'fill' });
    }
    LWC.createSeriesMarkers(candles, markers);
    // All the bars the cycle saw, with room on the right so the decision marker clears the line labels.
    chart.timeScale().fitContent();
    Object.assign(el.dataset, { bars: String(bars.length), lines: lines.join(' '), markers: markers.map((m) => m.text).join(' | ') });
    return { chart, bars: bars.length, lines, markers };
  };
})();
