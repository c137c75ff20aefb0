// inbox: the department's open cases, nearest deadline first, kept current from the event
// stream; and the case list for every role.
import {api, departments, deptName, qs} from './api.js';
import {h, fill, option, shortTime, errorText} from './dom.js';
import {openStream} from './stream.js';
import {STATES, stateName, debounce} from './intake.js';

// A deadline within this many minutes is marked yellow; past it (overdue) red.
const SOON_MINUTES = 8 * 60;

function dueText(c) {
  if (c.overdue) return '已超期';
  if (c.due_in_minutes === null || c.due_in_minutes === undefined) return '';
  const m = c.due_in_minutes;
  return m >= 1440 ? Math.floor(m / 1440) + ' 天后到期' : m >= 60 ? Math.floor(m / 60) + ' 小时后到期' : m + ' 分钟后到期';
}

function mark(c) {
  return c.overdue ? 'red' : c.due_in_minutes !== null && c.due_in_minutes !== undefined && c.due_in_minutes <= SOON_MINUTES ? 'yellow' : null;
}

export function inboxPage(main) {
  const tbody = h('tbody');
  const live = h('span', {class: 'live off'}, '实时推送');
  const status = h('p', {class: 'muted'});
  let known = null;

  async function load() {
    try {
      const r = await api('GET', '/v1/inbox');
      const seen = new Set();
      fill(tbody, r.items.map((c) => {
        seen.add(c.id);
        const m = mark(c);
        return h('tr', {testid: 'inbox-row', 'data-case-id': c.id, class: [m, known && !known.has(c.id) ? 'fresh' : null].filter(Boolean).join(' ') || null},
          h('td', null, h('a', {href: '#/case/' + c.id}, c.number)),
          h('td', null, c.urgent ? h('span', {class: 'tag red'}, '急') : null, c.role === 'co' ? h('span', {class: 'tag'}, '协办') : null,
            ' ', c.title || c.text.slice(0, 40)),
          h('td', null, stateName(c.state)),
          h('td', null, m ? h('span', {class: 'tag ' + m}, dueText(c)) : dueText(c)),
          h('td', null, c.district || ''));
      }));
      known = seen;
      fill(status, '共 ', String(r.items.length), ' 件在办工单');
    } catch (e) {
      fill(status, errorText(e));
    }
  }
  const reload = debounce(load, 200);
  // The server sends this token only its own cases' events (lead or co-handling): any is news.
  const stream = openStream(() => reload(),
    (on) => { live.className = 'live ' + (on ? 'on' : 'off'); if (on) reload(); });

  fill(main, h('section', {class: 'panel'}, h('h1', null, '待办工单 ', live), status,
    h('div', {class: 'table-wrap'}, h('table', null,
      h('thead', null, h('tr', null, h('th', null, '编号'), h('th', null, '诉求'), h('th', null, '状态'), h('th', null, '时限'), h('th', null, '区县'))),
      tbody))));
  load();
  return () => stream.stop();
}

export function casesPage(main) {
  const state = h('select', null, option('', '全部状态'), Object.entries(STATES).map(([v, t]) => option(v, t)));
  const q = h('input', {placeholder: '搜索诉求内容'});
  const overdue = h('input', {type: 'checkbox'});
  const tbody = h('tbody');
  const more = h('button', {type: 'button', class: 'secondary'}, '更多');
  const status = h('p', {class: 'muted'});
  let next = null;
  let names = null;

  async function load(append) {
    try {
      names = names || await departments();
      const r = await api('GET', '/v1/cases' + qs({state: state.value, q: q.value.trim(), overdue: overdue.checked ? 'true' : '', after: append ? next : '', limit: 50}));
      const rows = r.items.map((c) => h('tr', {class: c.overdue ? 'red' : null},
        h('td', null, h('a', {href: '#/case/' + c.id}, c.number)), h('td', null, shortTime(c.created_at)),
        h('td', null, c.title || c.text.slice(0, 40)), h('td', null, stateName(c.state)), h('td', null, deptName(names, c.department))));
      if (append) tbody.append(...rows); else fill(tbody, rows);
      next = r.next;
      more.hidden = !next;
      fill(status);
    } catch (e) {
      fill(status, errorText(e));
    }
  }
  more.addEventListener('click', () => load(true));
  fill(main, h('section', {class: 'panel'}, h('h1', null, '工单查询'),
    h('form', {class: 'row', onsubmit: (ev) => { ev.preventDefault(); load(false); }},
      state, q, h('label', {class: 'check'}, overdue, '仅超期'), h('button', {type: 'submit'}, '查询')),
    status, h('div', {class: 'table-wrap'}, h('table', null,
      h('thead', null, h('tr', null, h('th', null, '编号'), h('th', null, '受理时间'), h('th', null, '诉求'), h('th', null, '状态'), h('th', null, '承办单位'))), tbody)), more));
  load(false);
}
