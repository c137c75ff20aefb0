// app: the console's shell: login, the menu of each role, and the hash router.
import {api, session, saveSession, clearSession} from './api.js';
import {h, fill, field, errorText} from './dom.js';
import {intakePage} from './intake.js';
import {inboxPage, casesPage} from './inbox.js';
import {casePage} from './case.js';
import {dashboardPage} from './dashboard.js';
import {usersPage, rulesPage, slaPage, calendarPage} from './admin.js';

const ROLE_NAMES = {operator: '话务员', department: '承办单位', manager: '管理人员', admin: '系统管理员'};

// The main screen of each role: where a login lands.
const HOME = {operator: '#/intake', department: '#/inbox', manager: '#/dashboard', admin: '#/users'};

const MENUS = {
  operator: [['#/intake', '受理登记'], ['#/cases', '工单查询']],
  department: [['#/inbox', '待办工单'], ['#/cases', '工单查询']],
  manager: [['#/dashboard', '监管看板'], ['#/cases', '工单查询']],
  admin: [['#/users', '用户'], ['#/rules', '派单规则'], ['#/sla', '办理时限'], ['#/calendar', '工作日历'],
    ['#/dashboard', '看板'], ['#/cases', '工单查询']],
};

// Each page: (main element, route argument) -> optional cleanup function.
const PAGES = {
  intake: intakePage, inbox: inboxPage, cases: casesPage, case: casePage, dashboard: dashboardPage,
  users: usersPage, rules: rulesPage, sla: slaPage, calendar: calendarPage, password: passwordPage,
};

let cleanup = null;

function route() {
  const main = document.getElementById('main');
  const [, name, arg] = /^#\/([a-z]*)\/?(.*)$/.exec(location.hash) || [];
  const s = session();
  if (cleanup) { cleanup(); cleanup = null; }
  if (!s || name === 'login' || !s.user) {
    renderMenu(null);
    loginPage(main);
    return;
  }
  if (!PAGES[name]) {
    location.replace(HOME[s.user.role] || '#/cases');
    return;
  }
  renderMenu(s.user);
  fill(main);
  cleanup = PAGES[name](main, decodeURIComponent(arg || ''), s.user) || null;
}

function renderMenu(user) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!user) { fill(nav); fill(who); return; }
  const here = location.hash.split('/').slice(0, 2).join('/');
  fill(nav, (MENUS[user.role] || []).map(([href, text]) => h('a', {href, class: href === here ? 'active' : null}, text)),
    h('a', {href: '#/password'}, '修改密码'),
    h('a', {href: '#/login', onclick: logout}, '退出'));
  fill(who, user.name + '（' + (ROLE_NAMES[user.role] || user.role) + (user.department ? ' · ' + user.department : '') + '）');
}

async function logout(ev) {
  ev.preventDefault();
  try { await api('POST', '/v1/logout', {}); } catch (e) { /* the session ends here anyway */ }
  clearSession();
  location.hash = '#/login';
  route();
}

function loginPage(main) {
  const login = h('input', {testid: 'login-login', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false'});
  const password = h('input', {type: 'password', testid: 'login-password', autocomplete: 'current-password'});
  const error = h('p', {class: 'error', role: 'alert'});
  const submit = h('button', {type: 'submit', testid: 'login-submit'}, '登录');
  const form = h('form', {class: 'panel login', onsubmit: async (ev) => {
    ev.preventDefault();
    fill(error);
    submit.disabled = true;
    try {
      const s = await api('POST', '/v1/login', {login: login.value.trim(), password: password.value});
      saveSession(s);
      location.hash = HOME[s.user.role] || '#/cases';
      route();
    } catch (e) {
      fill(error, e.status === 401 ? '登录名或密码错误' : e.status === 429 ? '失败次数过多，请 15 分钟后再试' : errorText(e));
    } finally {
      submit.disabled = false;
    }
  }},
  h('h1', null, '登录'), field('登录名', login), field('密码', password), error, submit);
  fill(main, form);
  login.focus();
}

function passwordPage(main) {
  const old = h('input', {type: 'password', autocomplete: 'current-password'});
  const next = h('input', {type: 'password', autocomplete: 'new-password', minlength: 10});
  const msg = h('p');
  fill(main, h('form', {class: 'panel login', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api('PUT', '/v1/me/password', {old: old.value, new: next.value});
      fill(msg, '密码已修改'); msg.className = 'ok';
    } catch (e) {
      fill(msg, e.field === 'old' ? '原密码不正确' : errorText(e)); msg.className = 'error';
    }
  }}, h('h1', null, '修改密码'), field('原密码', old), field('新密码（10 至 200 个字符）', next), msg,
  h('button', {type: 'submit'}, '保存')));
}

window.addEventListener('hashchange', route);
route();
