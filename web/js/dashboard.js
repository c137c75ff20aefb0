// dashboard: the manager's month: rates by department (table and chart), the daily trend,
// hot spots, overdue cases and the scorecard (hidden while the server lacks it).
import {api, departments, deptName, hasRoute, qs} from './api.js';
import {h, fill, field, option, percent, errorText} from './dom.js';

const BY = [['department', '按单位'], ['district', '按区县'], ['type', '按类型'], ['channel', '按渠道']];
const RATE_COLUMNS = [['received', '受理量', 'n'], ['dispatched', '派单量', 'n'], ['response_rate', '响应率', 'r'],
  ['on_time_rate', '按时办结率', 'r'], ['resolution_rate', '解决率', 'r'], ['satisfaction_rate', '满意率', 'r'],
  ['return_rate', '退单率', 'r'], ['overdue_open', '超期在办', 'n']];

function pad(n) { return String(n).padStart(2, '0'); }

// [from, to) of the month "YYYY-MM".
function monthRange(month) {
  const [y, m] = month.split('-').map(Number);
  const next = m === 12 ? [y + 1, 1] : [y, m + 1];
  return [y + '-' + pad(m) + '-01', next[0] + '-' + pad(next[1]) + '-01'];
}

function currentMonth() {
  const d = new Date();
  return d.getFullYear() + '-' + pad(d.getMonth() + 1);
}

export function dashboardPage(main) {
  const month = h('input', {type: 'month', value: currentMonth(), testid: 'dashboard-month'});
  const by = h('select', null, BY.map(([v, t]) => option(v, t)));
  const status = h('p', {class: 'muted'});
  const table = h('table', {testid: 'rates-table'});
  const chartBox = h('div', {class: 'chart', testid: 'dashboard-chart'});
  const trendBox = h('div', {class: 'chart'});
  const hotspots = h('div');
  const overdue = h('div');
  const scorecard = h('section', {class: 'panel'}, h('h2', null, '考核排名'));
  const scoreBody = h('div');
  scorecard.append(scoreBody);
  const charts = [];
  let names = null;

  function chart(box) {
    const c = window.echarts.init(box, null, {renderer: 'canvas'});
    charts.push(c);
    return c;
  }
  let ratesChart = null;
  let trendChart = null;
  const resize = () => charts.forEach((c) => c.resize());
  window.addEventListener('resize', resize);

  async function load() {
    const [from, to] = monthRange(month.value || currentMonth());
    fill(status, '统计区间：', from, ' 至 ', to, '（不含）');
    try {
      names = names || await departments();
      const r = await api('GET', '/v1/reports/rates' + qs({from, to, by: by.value}));
      const label = (k) => by.value === 'department' ? deptName(names, k) : k;
      fill(table, h('thead', null, h('tr', null, h('th', null, BY.find(([v]) => v === by.value)[1].slice(1)),
        RATE_COLUMNS.map(([, t]) => h('th', {class: 'num'}, t)))),
      h('tbody', null, r.rows.map((row) => h('tr', null, h('td', null, label(row.key)),
        RATE_COLUMNS.map(([k, , kind]) => h('td', {class: 'num'}, kind === 'r' ? percent(row[k]) : String(row[k])))))),
      h('tfoot', null, h('tr', null, h('th', null, '合计'), RATE_COLUMNS.map(([k, , kind]) => h('th', {class: 'num'}, kind === 'r' ? percent(r.total[k]) : String(r.total[k]))))));
      const keys = r.rows.map((row) => label(row.key));
      ratesChart.setOption({
        tooltip: {trigger: 'axis'}, legend: {top: 0},
        grid: {left: 40, right: 40, bottom: 80, top: 40},
        xAxis: {type: 'category', data: keys, axisLabel: {rotate: 40, interval: 0}},
        yAxis: [{type: 'value', name: '件'}, {type: 'value', name: '%', max: 100}],
        series: [
          {name: '受理量', type: 'bar', barMaxWidth: 48, data: r.rows.map((row) => row.received)},
          {name: '响应率', type: 'line', yAxisIndex: 1, data: r.rows.map((row) => rate100(row.response_rate))},
          {name: '满意率', type: 'line', yAxisIndex: 1, data: r.rows.map((row) => rate100(row.satisfaction_rate))},
        ],
      }, true);
    } catch (e) {
      fill(status, errorText(e));
    }
    loadTrend(from, to);
    loadSide(from, to);
  }

  // One rates call per day of the month up to today: the received count and response rate.
  async function loadTrend(from, to) {
    const days = [];
    const today = new Date().toISOString().slice(0, 10);
    for (let d = new Date(from + 'T00:00:00Z'); d.toISOString().slice(0, 10) < to; d.setUTCDate(d.getUTCDate() + 1)) {
      const day = d.toISOString().slice(0, 10);
      if (day > today) break;
      const next = new Date(d.getTime() + 86400000).toISOString().slice(0, 10);
      days.push([day, next]);
    }
    try {
      const totals = await Promise.all(days.map(([a, b]) => api('GET', '/v1/reports/rates' + qs({from: a, to: b, by: 'channel'})).then((r) => r.total)));
      trendChart.setOption({
        title: {text: '每日受理趋势', textStyle: {fontSize: 14}}, tooltip: {trigger: 'axis'},
        grid: {left: 40, right: 40, bottom: 30, top: 40},
        xAxis: {type: 'category', data: days.map(([a]) => a.slice(5))},
        yAxis: [{type: 'value', name: '件'}, {type: 'value', name: '%', max: 100}],
        series: [{name: '受理量', type: 'line', data: totals.map((t) => t.received)},
          {name: '响应率', type: 'line', yAxisIndex: 1, data: totals.map((t) => rate100(t.response_rate))}],
      }, true);
    } catch (e) { /* the table above says what went wrong */ }
  }

  async function loadSide(from, to) {
    try {
      const r = await api('GET', '/v1/reports/hotspots' + qs({days: 7, by: 'district', top: 10}));
      fill(hotspots, r.rows.length ? h('ul', {class: 'plain'}, r.rows.map((x) => h('li', null, x.key, '：', String(x.count), ' 件',
        x.rising ? h('span', {class: 'tag red'}, '上升') : null, h('span', {class: 'muted'}, '（前 7 天 ', String(x.previous), '）')))) :
        h('p', {class: 'muted'}, '近 7 天无工单'));
    } catch (e) { fill(hotspots, errorText(e)); }
    try {
      const r = await api('GET', '/v1/reports/overdue');
      fill(overdue, h('p', null, '超期在办共 ', String(r.total), ' 件'), h('ul', {class: 'plain'}, (r.rows || []).map((g) =>
        h('li', null, deptName(names, g.department), '：', String(g.count !== undefined ? g.count : (g.cases || []).length), ' 件'))));
    } catch (e) { fill(overdue, errorText(e)); }
    if (!(await hasRoute('GET /v1/reports/scorecard'))) {
      scorecard.remove();
      return;
    }
    try {
      const r = await api('GET', '/v1/reports/scorecard' + qs({from, to}));
      fill(scoreBody, r.rows.length ? h('div', {class: 'table-wrap'}, h('table', null,
        h('thead', null, h('tr', null, ['排名', '单位', '派单量', '响应率', '按时办结率', '解决率', '满意率', '派单准确率', '得分'].map((t) => h('th', null, t)))),
        h('tbody', null, r.rows.map((x) => h('tr', null, h('td', null, String(x.rank)), h('td', null, x.name || deptName(names, x.department)),
          h('td', {class: 'num'}, String(x.dispatched)), ['response_rate', 'on_time_rate', 'resolution_rate', 'satisfaction_rate', 'dispatch_accuracy'].map((k) => h('td', {class: 'num'}, percent(x[k]))),
          h('td', {class: 'num'}, x.score === null ? '—' : (x.score * 100).toFixed(1))))))) : h('p', {class: 'muted'}, '派单量达到考核门槛的单位暂无'));
    } catch (e) {
      if (e.status === 404) scorecard.remove(); else fill(scoreBody, errorText(e));
    }
  }

  month.addEventListener('change', load);
  by.addEventListener('change', load);
  fill(main,
    h('section', {class: 'panel'}, h('h1', null, '监管看板'),
      h('div', {class: 'row'}, h('div', null, field('月份', month)), h('div', null, field('分组', by))), status,
      chartBox, h('div', {class: 'table-wrap'}, table)),
    h('section', {class: 'panel'}, trendBox),
    h('div', {class: 'grid2'}, h('section', {class: 'panel'}, h('h2', null, '热点问题（近 7 天）'), hotspots),
      h('section', {class: 'panel'}, h('h2', null, '超期工单'), overdue)),
    scorecard);
  // ECharts measures its box: make the charts once the boxes are on the page.
  ratesChart = chart(chartBox);
  trendChart = chart(trendBox);
  load();
  return () => { window.removeEventListener('resize', resize); charts.forEach((c) => c.dispose()); };
}

function rate100(r) { return r === null || r === undefined ? null : Math.round(r * 1000) / 10; }
