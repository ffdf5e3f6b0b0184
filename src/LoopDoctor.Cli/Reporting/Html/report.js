// loopdoctor's HTML report: draws the timeline charts as inline SVG from the report's JSON (the <script id="report-data">
// element) on one shared time axis, formats durations, and writes what it drew into #self-check so a test (or a
// person) can see that every chart got its points and no script failed.
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });

  var SVG = 'http://www.w3.org/2000/svg';
  var WIDTH = 1000, LEFT = 84, RIGHT = 12, TOP = 8, BOTTOM = 22;
  var KIND_LABELS = {
    'thread-pool-starvation': 'starvation', 'blocking-wait': 'blocking wait', 'lock-contention': 'lock',
    'long-callback': 'long callback', 'unobserved-task-exception': 'unobserved', 'high-lag': 'high lag', 'gc-pause': 'GC pause', 'deadlock': 'deadlock', 'hung-wait': 'hung wait'
  };
  var KIND_COLORS = {
    'thread-pool-starvation': '#c62828', 'blocking-wait': '#1f6feb', 'lock-contention': '#7c3aed',
    'long-callback': '#c2410c', 'unobserved-task-exception': '#0f766e', 'high-lag': '#d48806', 'gc-pause': '#6b21a8', 'deadlock': '#991b1b', 'hung-wait': '#475569'
  };

  // The duration rule of loopdoctor's text reports: a readable unit and at most three significant digits.
  // The text report's rule (DurationText.cs): ms, s, min, h; 2 significant digits under 10 (kept even when 0:
  // "8.0 s"), whole numbers from 10 up; a value that rounds up to the next unit is said in it ("1.0 s").
  function formatDuration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) { return 'n/a'; }
    if (ms < 0) { return '-' + formatDuration(-ms); }
    if (ms === 0) { return '0 ms'; }
    var units = [['ms', 1, 1000], ['s', 1000, 60], ['min', 60000, 60], ['h', 3600000, Infinity]];
    for (var i = 0; i < units.length; i++) {
      var value = roundDuration(ms / units[i][1]);
      if (value < units[i][2] || i === units.length - 1) {
        if (value >= 10) { return Math.round(value) + ' ' + units[i][0]; }
        var digits = Math.max(1, 1 - Math.floor(Math.log10(value)));
        return value.toFixed(Math.min(digits, 15)) + ' ' + units[i][0];
      }
    }
    return String(ms);
  }

  function roundDuration(value) {
    if (value >= 9.95) { return Math.round(value); }
    var digits = Math.min(Math.max(0, 1 - Math.floor(Math.log10(value))), 15);
    var scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  function formatNumber(v) {
    if (v === null || v === undefined) { return 'n/a'; }
    return String(Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3)));
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) { node.setAttribute(key, attrs[key]); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  // Time ticks at steps a person counts in: seconds, then minutes.
  function timeStep(range, target) {
    var steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
    for (var i = 0; i < steps.length; i++) { if (range / steps[i] <= target) { return steps[i]; } }
    return steps[steps.length - 1];
  }

  var clockLabels = false;
  function formatSeconds(s) {
    if (clockLabels) {
      var h = Math.floor(s / 3600), m = Math.floor((s - h * 3600) / 60), r = Math.round(s - h * 3600 - m * 60);
      var mm = (h > 0 && m < 10 ? '0' : '') + m;
      return (h > 0 ? h + ':' : '') + mm + ':' + (r < 10 ? '0' : '') + r;
    }
    return formatNumber(s) + ' s';
  }

  var report = JSON.parse(document.getElementById('report-data').textContent);
  var timeline = report.timeline;
  var selfCheck = document.getElementById('self-check');
  var tooltip = document.getElementById('tooltip');

  // Durations written by the server as data-ms get the shared rule.
  Array.prototype.forEach.call(document.querySelectorAll('[data-ms]'), function (node) {
    node.textContent = formatDuration(Number(node.getAttribute('data-ms')));
  });

  var container = document.getElementById('charts');
  if (!timeline || !container) {
    if (container) { container.textContent = 'No timeline in this report.'; }
    selfCheck.setAttribute('data-status', 'no-timeline');
    selfCheck.setAttribute('data-errors', errors.join(' | '));
    return;
  }

  var bucket = timeline.bucketSeconds;
  var count = timeline.threadCount.length;
  var axisEnd = Math.max(report.durationSeconds, count * bucket, bucket);
  clockLabels = axisEnd >= 120;
  var perSecond = function (values) { return values.map(function (v) { return v === null ? null : v / bucket; }); };
  var agentNote = report.agent === 'none' ? 'not measured: the agent did not run in the target' : 'no agent figures in this session';

  var charts = [
    { id: 'queue-delay', title: 'Thread-pool queue delay', unit: 'ms', duration: true, agent: true, gcPauses: true, series: [
      { name: 'p50', values: timeline.queueDelayP50Milliseconds, color: '#1f6feb' },
      { name: 'p99', values: timeline.queueDelayP99Milliseconds, color: '#c2410c' },
      { name: 'max', values: timeline.queueDelayMaxMilliseconds, color: '#c62828' }] },
    { id: 'timer-lag', title: 'Timer lag', unit: 'ms', duration: true, agent: true, gcPauses: true, series: [
      { name: 'lag', values: timeline.timerLagMilliseconds, color: '#d48806' }] },
    { id: 'threads', title: 'Pool worker threads', unit: 'threads', series: [
      { name: 'threads', values: timeline.threadCount, color: '#2e7d32', step: true }] },
    { id: 'injections', title: 'Thread-count changes by reason (per ' + formatNumber(bucket) + ' s)', unit: 'changes', bars: true, series: [
      { name: 'starvation', values: timeline.injections.starvation, color: '#c62828' },
      { name: 'cooperative blocking', values: timeline.injections.cooperativeBlocking, color: '#1f6feb' },
      { name: 'other (hill climbing)', values: timeline.injections.other, color: '#9aa4b2' }] },
    { id: 'waits', title: 'Blocking waits and contended lock acquisitions per second', unit: '/s', series: [
      { name: 'blocking waits', values: perSecond(timeline.blockingWaits), color: '#1f6feb' },
      { name: 'contended acquisitions', values: perSecond(timeline.contendedAcquisitions), color: '#7c3aed' }] },
    { id: 'exceptions', title: 'Unobserved task exceptions (per ' + formatNumber(bucket) + ' s)', unit: 'exceptions', bars: true, series: [
      { name: 'exceptions', values: timeline.unobservedExceptions, color: '#0f766e' }] }
  ];

  var x = function (seconds) { return LEFT + (seconds / axisEnd) * (WIDTH - LEFT - RIGHT); };
  var guides = [];
  var drawn = {};
  var nonzero = {};
  var pauseMarks = {};
  var GC_PAUSE_COLOR = KIND_COLORS['gc-pause'];
  var unmeasured = [];

  function axis(svg, height) {
    var step = timeStep(axisEnd, 10);
    for (var k = 0; k * step <= axisEnd + 1e-9; k++) {
      var s = k * step;
      el('line', { x1: x(s), x2: x(s), y1: TOP, y2: height - BOTTOM, 'class': 'grid' }, svg);
      var label = el('text', { x: x(s), y: height - 6, 'text-anchor': 'middle' }, svg);
      label.textContent = formatSeconds(s);
    }
  }

  // When a finding's kind was active: the timeline's stretches of seconds, or for gc-pause the pauses themselves.
  function episodesOf(kind) {
    if (kind === 'gc-pause') { return timeline.gcPauses || []; }
    return (timeline.episodes || []).filter(function (e) { return e.kind === kind; });
  }

  function episodesStrip(svg, height) {
    // The most severe finding's episodes as a strip on every chart's time axis; each finding has its own lane above.
    var top = report.findings[0];
    if (!top) { return; }
    episodesOf(top.kind).forEach(function (e) {
      el('rect', { x: x(e.startSeconds), width: Math.max(1, x(e.endSeconds) - x(e.startSeconds)), y: height - BOTTOM, height: 3,
        fill: KIND_COLORS[e.kind] || '#999', 'class': 'episode' }, svg);
    });
  }

  // Every GC pause over the lag threshold as a band behind the lag, on the same time axis: lag inside a band is the GC's.
  function gcPauseBands(svg, height) {
    var marked = 0;
    (timeline.gcPauses || []).forEach(function (p) {
      var band = el('rect', { x: x(p.startSeconds), width: Math.max(1.5, x(p.endSeconds) - x(p.startSeconds)), y: TOP, height: height - TOP - BOTTOM,
        fill: GC_PAUSE_COLOR, 'fill-opacity': 0.22, 'class': 'gc-pause' }, svg);
      var tip = el('title', {}, band);
      tip.textContent = 'GC pause ' + formatDuration((p.endSeconds - p.startSeconds) * 1000) + ' at ' + formatSeconds(p.startSeconds) +
        (p.generation >= 0 ? ', gen' + p.generation : '') + (p.induced ? ', induced' : '');
      marked++;
    });
    return marked;
  }

  // A round top for a value axis: 1, 2, 2.5 or 5 times a power of ten.
  function niceCeiling(value) {
    if (value <= 0) { return 1; }
    var power = Math.pow(10, Math.floor(Math.log(value) / Math.LN10));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * power >= value) { return steps[i] * power; } }
    return 10 * power;
  }

  function drawChart(chart) {
    var height = 150;
    var wrapper = document.createElement('div');
    wrapper.className = 'chart';
    wrapper.id = 'chart-' + chart.id;
    var title = document.createElement('h3');
    title.textContent = chart.title;
    var legend = document.createElement('span');
    legend.className = 'legend';
    chart.series.forEach(function (series) {
      var swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = series.color;
      legend.appendChild(swatch);
      legend.appendChild(document.createTextNode(series.name));
    });
    if (chart.gcPauses) {
      var band = document.createElement('span');
      band.className = 'swatch swatch-band';
      band.style.background = GC_PAUSE_COLOR;
      legend.appendChild(band);
      legend.appendChild(document.createTextNode('GC pause over the lag threshold (' + (timeline.gcPauses || []).length + ')'));
    }
    title.appendChild(legend);
    wrapper.appendChild(title);
    var svg = el('svg', { viewBox: '0 0 ' + WIDTH + ' ' + height, role: 'img', 'aria-label': chart.title });
    wrapper.appendChild(svg);
    container.appendChild(wrapper);

    var points = 0;
    var positive = 0;
    var max = 0;
    chart.series.forEach(function (series) {
      series.values.forEach(function (v, i) {
        if (v !== null && v !== undefined) {
          points++;
          if (v > 0) { positive++; }
          var total = chart.bars ? chart.series.reduce(function (sum, s) { return sum + (s.values[i] || 0); }, 0) : v;
          max = Math.max(max, total);
        }
      });
    });
    drawn[chart.id] = points;
    nonzero[chart.id] = positive;
    axis(svg, height);
    episodesStrip(svg, height);
    // GC pauses come from the runtime's events, not the agent: drawn even where the agent measured nothing.
    if (chart.gcPauses) { pauseMarks[chart.id] = gcPauseBands(svg, height); }
    if (points === 0) {
      unmeasured.push(chart.id);
      var note = el('text', { x: (LEFT + WIDTH) / 2, y: height / 2, 'text-anchor': 'middle', 'class': 'unmeasured' }, svg);
      note.textContent = chart.agent ? agentNote : 'nothing measured';
      return;
    }

    var yMax = niceCeiling(max * 1.05);
    var y = function (v) { return height - BOTTOM - (v / yMax) * (height - TOP - BOTTOM); };
    [0, 0.5, 1].forEach(function (f) {
      var value = yMax * f;
      el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: y(value), y2: y(value), 'class': 'grid' }, svg);
      var label = el('text', { x: LEFT - 6, y: y(value) + 4, 'text-anchor': 'end' }, svg);
      label.textContent = chart.duration ? formatDuration(value) : formatNumber(value);
    });

    var slot = (x(bucket) - x(0));
    if (chart.bars) {
      var base = new Array(count).fill(0);
      chart.series.forEach(function (series) {
        series.values.forEach(function (v, i) {
          if (!v) { return; }
          el('rect', { x: x(i * bucket) + slot * 0.1, width: Math.max(0.5, slot * 0.8), y: y(base[i] + v), height: y(base[i]) - y(base[i] + v), fill: series.color, 'class': 'point' }, svg);
          base[i] += v;
        });
      });
    } else {
      chart.series.forEach(function (series) {
        var d = '';
        var pen = false;
        series.values.forEach(function (v, i) {
          if (v === null || v === undefined) { pen = false; return; }
          var cx = x((i + 0.5) * bucket);
          d += (pen ? ' L' : ' M') + cx.toFixed(1) + ' ' + y(v).toFixed(1);
          pen = true;
          if (count <= 200) { el('circle', { cx: cx.toFixed(1), cy: y(v).toFixed(1), r: 2, fill: series.color, 'class': 'point' }, svg); }
        });
        el('path', { d: d.trim(), fill: 'none', stroke: series.color, 'stroke-width': 1.6, 'class': 'series' }, svg);
      });
    }

    var guide = el('line', { y1: TOP, y2: height - BOTTOM, 'class': 'guide', visibility: 'hidden' }, svg);
    guides.push(guide);
    svg.addEventListener('mousemove', function (event) { hover(chart, svg, event); });
    svg.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; guides.forEach(function (g) { g.setAttribute('visibility', 'hidden'); }); });
  }

  function valuesAt(chart, i) {
    var from = i * bucket;
    var lines = [formatSeconds(from) + ' – ' + formatSeconds(from + bucket)];
    chart.series.forEach(function (series) {
      var v = series.values[i];
      lines.push(series.name + ': ' + (v === null || v === undefined ? 'n/a' : chart.duration ? formatDuration(v) : formatNumber(v) + ' ' + chart.unit));
    });
    return lines.join('\n');
  }

  function hover(chart, svg, event) {
    var box = svg.getBoundingClientRect();
    var sx = (event.clientX - box.left) * (WIDTH / box.width);
    var seconds = ((sx - LEFT) / (WIDTH - LEFT - RIGHT)) * axisEnd;
    var i = Math.floor(seconds / bucket);
    if (i < 0 || i >= count) { return; }
    var gx = x((i + 0.5) * bucket);
    guides.forEach(function (g) { g.setAttribute('x1', gx); g.setAttribute('x2', gx); g.setAttribute('visibility', 'visible'); });
    tooltip.textContent = valuesAt(chart, i);
    tooltip.style.display = 'block';
    tooltip.style.left = (event.clientX + 14) + 'px';
    tooltip.style.top = (event.clientY + 14) + 'px';
  }

  function drawLanes() {
    // One lane per finding: its kind's stretches of activity on the shared axis.
    var findings = report.findings;
    var lane = 18;
    var height = TOP + findings.length * lane + BOTTOM + 4;
    var wrapper = document.createElement('div');
    wrapper.className = 'chart';
    wrapper.id = 'chart-episodes';
    var title = document.createElement('h3');
    title.textContent = findings.length ? 'When each finding happened' : 'No findings';
    wrapper.appendChild(title);
    container.appendChild(wrapper);
    if (!findings.length) { return 0; }
    var svg = el('svg', { viewBox: '0 0 ' + WIDTH + ' ' + height, role: 'img', 'aria-label': 'episodes' });
    wrapper.appendChild(svg);
    axis(svg, height);
    var marked = 0;
    findings.forEach(function (f, row) {
      var top = TOP + row * lane;
      var label = el('text', { x: LEFT - 6, y: top + 12, 'text-anchor': 'end' }, svg);
      label.textContent = KIND_LABELS[f.kind] || f.kind;
      episodesOf(f.kind).forEach(function (e) {
        var rect = el('rect', { x: x(e.startSeconds), y: top + 2, width: Math.max(1.5, x(e.endSeconds) - x(e.startSeconds)), height: lane - 6,
          fill: KIND_COLORS[f.kind] || '#999', 'class': 'episode', rx: 2 }, svg);
        var tip = el('title', {}, rect);
        tip.textContent = f.kind + ': ' + formatSeconds(e.startSeconds) + ' – ' + formatSeconds(e.endSeconds);
        marked++;
      });
    });
    return marked;
  }

  try {
    var episodesMarked = drawLanes();
    charts.forEach(drawChart);
    // A hover at the middle of the first measured chart, as a person would: the tooltip must show a value.
    var probe = charts.filter(function (c) { return drawn[c.id] > 0; })[0];
    var hoverText = '';
    if (probe) {
      var svg = document.querySelector('#chart-' + probe.id + ' svg');
      var box = svg.getBoundingClientRect();
      var middle = Math.floor(count / 2);
      var clientX = box.left + (x((middle + 0.5) * bucket) / WIDTH) * box.width;
      svg.dispatchEvent(new MouseEvent('mousemove', { clientX: clientX, clientY: box.top + box.height / 2, bubbles: true }));
      hoverText = tooltip.textContent;
      tooltip.style.display = 'none';
      guides.forEach(function (g) { g.setAttribute('visibility', 'hidden'); });
    }

    selfCheck.setAttribute('data-charts', String(charts.length));
    selfCheck.setAttribute('data-points', JSON.stringify(drawn));
    selfCheck.setAttribute('data-nonzero', JSON.stringify(nonzero));
    selfCheck.setAttribute('data-unmeasured', unmeasured.join(','));
    selfCheck.setAttribute('data-axis-start', '0');
    selfCheck.setAttribute('data-axis-end', String(axisEnd));
    selfCheck.setAttribute('data-duration', String(report.durationSeconds));
    selfCheck.setAttribute('data-episodes', String(episodesMarked));
    selfCheck.setAttribute('data-gc-pauses', JSON.stringify(pauseMarks));
    selfCheck.setAttribute('data-hover', hoverText);
    selfCheck.setAttribute('data-status', 'rendered');
  } catch (e) {
    errors.push(String(e && e.stack || e));
    selfCheck.setAttribute('data-status', 'failed');
  }
  selfCheck.setAttribute('data-errors', errors.join(' | '));
})();
