// admin: users (with logins and passwords), routing rules with a dry run, the SLA policy
// and the working-day calendar.
import {api, departments, deptName} from './api.js';
import {h, fill, field, option, errorText} from './dom.js';

const ROLES = [['operator', '话务员'], ['department', '承办单位'], ['manager', '管理人员'], ['admin', '系统管理员']];

export function usersPage(main) {
  const tbody = h('tbody');
  const msg = h('p');
  const f = {name: h('input', {maxlength: 100}), role: h('select', null, ROLES.map(([v, t]) => option(v, t))),
    department: h('select', null, option('', '（仅承办单位）')), login: h('input', {maxlength: 32, autocomplete: 'off'}),
    password: h('input', {type: 'password', autocomplete: 'new-password'})};
  let names = null;

  async function load() {
    try {
      names = names || await departments();
      if (f.department.options.length === 1) for (const [code, name] of names) f.department.append(option(code, name));
      const r = await api('GET', '/v1/users');
      fill(tbody, r.items.map((u) => h('tr', null, h('td', null, String(u.id)), h('td', null, u.name), h('td', null, u.login || ''),
        h('td', null, (ROLES.find(([v]) => v === u.role) || [, u.role])[1]), h('td', null, u.department ? deptName(names, u.department) : ''),
        h('td', null, u.disabled ? '已停用' : ''),
        h('td', null, u.disabled ? null : [
          u.login ? h('button', {type: 'button', class: 'small secondary', onclick: () => setPassword(u)}, '重置密码') : null,
          h('button', {type: 'button', class: 'small secondary', onclick: () => disable(u)}, '停用')]))));
    } catch (e) { show(errorText(e), false); }
  }
  function show(text, ok) { fill(msg, text); msg.className = ok ? 'ok' : 'error'; }
  async function setPassword(u) {
    const pw = window.prompt('为「' + u.name + '」设置新密码（10 至 200 个字符）');
    if (!pw) return;
    try { await api('POST', '/v1/users/' + u.id + '/password', {password: pw}); show('密码已重置', true); } catch (e) { show(errorText(e), false); }
  }
  async function disable(u) {
    if (!window.confirm('停用「' + u.name + '」？其令牌将立即失效。')) return;
    try { await api('DELETE', '/v1/users/' + u.id); load(); } catch (e) { show(errorText(e), false); }
  }
  const form = h('form', {class: 'panel', onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {name: f.name.value.trim(), role: f.role.value};
    if (f.department.value) body.department = f.department.value;
    if (f.login.value.trim()) body.login = f.login.value.trim();
    if (f.password.value) body.password = f.password.value;
    try {
      const u = await api('POST', '/v1/users', body);
      show('已创建「' + u.name + '」' + (u.login ? '，登录名 ' + u.login : '') + '。API 令牌（仅显示一次）：' + u.token, true);
      f.name.value = f.login.value = f.password.value = '';
      load();
    } catch (e) { show(errorText(e) + (e.field ? '（' + e.field + '）' : ''), false); }
  }}, h('h2', null, '新建用户'),
  h('div', {class: 'row'}, h('div', null, field('姓名', f.name)), h('div', null, field('角色', f.role)), h('div', null, field('所属单位', f.department))),
  h('div', {class: 'row'}, h('div', null, field('登录名（a-z 0-9 . _ -）', f.login)), h('div', null, field('密码（10 至 200 个字符）', f.password))),
  h('button', {type: 'submit'}, '创建'));
  fill(main, h('h1', null, '用户管理'), form, msg, h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', null,
    h('thead', null, h('tr', null, ['ID', '姓名', '登录名', '角色', '单位', '状态', ''].map((t) => h('th', null, t)))), tbody))));
  load();
}

export function rulesPage(main) {
  const tbody = h('tbody');
  const text = h('textarea', {placeholder: '输入一段诉求，试算会派往哪个单位'});
  const district = h('input', {placeholder: '区县（可选）'});
  const out = h('div');
  let names = null;
  async function load() {
    try {
      names = await departments();
      const r = await api('GET', '/v1/rules');
      fill(tbody, r.items.map((x) => h('tr', {class: x.enabled ? null : 'muted'}, h('td', null, String(x.id)), h('td', null, x.name),
        h('td', {class: 'num'}, String(x.priority)), h('td', null, deptName(names, x.department)),
        h('td', null, (x.match.any || []).join('、')), h('td', null, x.enabled ? '启用' : '停用'))));
    } catch (e) { fill(tbody, h('tr', null, h('td', null, errorText(e)))); }
  }
  fill(main, h('h1', null, '派单规则'),
    h('form', {class: 'panel', onsubmit: async (ev) => {
      ev.preventDefault();
      const body = {text: text.value};
      if (district.value.trim()) body.district = district.value.trim();
      try {
        const r = await api('POST', '/v1/route', body);
        fill(out, h('p', null, '派往：', h('strong', null, r.department ? deptName(names, r.department) : '派单池'), '，依据：', r.method,
          r.rule_name ? '「' + r.rule_name + '」' : '', r.matched && r.matched.length ? '，命中：' + r.matched.join('、') : ''));
      } catch (e) { fill(out, h('p', {class: 'error'}, errorText(e))); }
    }}, h('h2', null, '试算（不创建工单）'), text, district, h('button', {type: 'submit'}, '试算'), out),
    h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', null,
      h('thead', null, h('tr', null, ['ID', '名称', '优先级', '派往', '关键词', '状态'].map((t) => h('th', null, t)))), tbody))));
  load();
}

// A JSON document edited as text: the SLA policy, a year's calendar.
function jsonEditor(main, title, path, hint) {
  const area = h('textarea', {class: 'pre', rows: 16, spellcheck: 'false'});
  const msg = h('p');
  fill(main, h('h1', null, title), h('form', {class: 'panel', onsubmit: async (ev) => {
    ev.preventDefault();
    let body;
    try { body = JSON.parse(area.value); } catch (e) { fill(msg, '不是有效的 JSON'); msg.className = 'error'; return; }
    try { await api('PUT', path(), body); fill(msg, '已保存'); msg.className = 'ok'; } catch (e) { fill(msg, errorText(e)); msg.className = 'error'; }
  }}, h('p', {class: 'muted'}, hint), area, msg, h('button', {type: 'submit'}, '保存')));
  return {area, msg, async load() {
    try { area.value = JSON.stringify(await api('GET', path()), null, 2); } catch (e) { fill(msg, errorText(e)); msg.className = 'error'; }
  }};
}

export function slaPage(main) {
  jsonEditor(main, '办理时限', () => '/v1/sla', '时限写作 30m、2h（自然时间）或 3wd（工作日）；第一条匹配类型与紧急程度的规则生效。').load();
}

export function calendarPage(main, arg) {
  const year = /^\d{4}$/.test(arg) ? arg : String(new Date().getFullYear());
  const ed = jsonEditor(main, year + ' 年工作日历', () => '/v1/calendar/' + year, 'holidays：法定节假日；workdays：调休上班日。');
  main.prepend(h('p', null, h('a', {href: '#/calendar/' + (Number(year) - 1)}, '上一年'), ' · ', h('a', {href: '#/calendar/' + (Number(year) + 1)}, '下一年')));
  ed.load();
}
