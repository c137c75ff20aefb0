// case: one case, its history, and the actions the caller's role may take in its state.
import {api, departments, deptName, hasRoute} from './api.js';
import {h, fill, field, option, shortTime, errorText} from './dom.js';
import {stateName, TYPES, CHANNELS} from './intake.js';

const ACTION_NAMES = {create: '受理', dispatch: '派单', sign: '签收', return: '退回', contact: '联系市民', extend: '申请延期',
  reply: '答复', visit: '回访', supervise: '督办', merge: '并单', deadline_warning: '临期预警', overdue: '超期',
  approve: '批准延期', reject: '驳回延期', 'extension/approve': '批准延期', 'extension/reject': '驳回延期',
  assist: '协办答复', suspend: '挂起', resume: '恢复办理', review: '审核', decline: '不予受理'};

const OPEN = ['pending', 'dispatched', 'accepted', 'replied', 'reopened', 'answered', 'suspended', 'reviewing'];
const lead = (c, u) => u.role !== 'department' || c.department === u.department;
const coOpen = (c, u) => (c.co || []).some((x) => x.department === u.department && x.state === 'open');
const extensionAsked = (c) => c.extension && c.extension.state === 'requested';

// action -> who, from which states (API.md sections 2 and 9-12), when else, and its body's fields.
const ACTIONS = [
  {name: 'sign', roles: ['department'], states: ['dispatched'], when: lead, fields: []},
  {name: 'contact', roles: ['department'], states: ['accepted', 'reopened'], when: lead, fields: [['note', '联系情况', 'textarea']]},
  {name: 'reply', roles: ['department'], states: ['accepted', 'reopened'], when: lead, fields: [['text', '答复内容', 'textarea'], ['resolved', '问题已解决', 'checkbox']]},
  {name: 'assist', roles: ['department'], states: ['dispatched', 'accepted', 'reopened'], when: coOpen, fields: [['text', '协办意见', 'textarea']]},
  {name: 'extend', roles: ['department'], states: ['accepted'], when: lead, fields: [['workdays', '延长工作日', 'number'], ['reason', '理由', 'textarea']]},
  {name: 'suspend', roles: ['department'], states: ['accepted', 'reopened'], when: lead, fields: [['reason', '挂起原因', 'textarea']]},
  {name: 'resume', roles: ['department', 'manager'], states: ['suspended'], when: lead, fields: []},
  {name: 'return', roles: ['department'], states: ['dispatched', 'accepted'], when: lead, fields: [['reason', '退回理由', 'textarea']]},
  {name: 'dispatch', roles: ['operator', 'manager'], states: ['pending'], fields: [['department', '派往单位', 'department']]},
  {name: 'review', roles: ['operator', 'manager'], states: ['reviewing'], fields: [['approve', '审核通过', 'checkbox'], ['reason', '退回理由（不通过时）', 'textarea']]},
  {name: 'visit', roles: ['operator'], states: ['replied', 'answered'], fields: [['score', '满意度', 'score'], ['resolved', '问题已解决', 'checkbox'], ['comment', '回访记录', 'textarea']]},
  {name: 'decline', roles: ['operator', 'manager'], states: ['pending', 'answered'], fields: [['reason', '不予受理理由', 'decline'], ['note', '说明', 'textarea']]},
  {name: 'extension/approve', roles: ['manager'], states: OPEN, when: extensionAsked, fields: []},
  {name: 'extension/reject', roles: ['manager'], states: OPEN, when: extensionAsked, fields: []},
  {name: 'supervise', roles: ['manager'], states: OPEN.filter((s) => s !== 'answered'), fields: [['note', '督办意见', 'textarea']]},
  {name: 'merge', roles: ['operator', 'manager'], states: OPEN, fields: [['into', '并入工单 ID', 'number']]},
];

const DECLINE_REASONS = [['out_of_scope', '非政府职能'], ['emergency', '应由 110/119/120/122 处理'], ['judicial', '已进入诉讼、仲裁、复议'],
  ['petition', '已属信访事项'], ['legislature', '党委、人大、政协、法院、检察院事项'], ['repeat_no_new_facts', '重复诉求无新情况'],
  ['malicious', '恶意诉求'], ['secret', '涉密事项']];

const SCORES = [[5, '非常满意'], [4, '满意'], [3, '基本满意'], [2, '不满意'], [1, '非常不满意']];

export function casePage(main, arg, user) {
  const id = parseInt(arg, 10);
  if (!(id > 0)) { fill(main, h('p', {class: 'error'}, '无效的工单编号')); return; }
  load(main, id, user);
}

async function load(main, id, user) {
  let c, events, names;
  try {
    [c, events, names] = await Promise.all([api('GET', '/v1/cases/' + id), api('GET', '/v1/cases/' + id + '/events'), departments()]);
  } catch (e) {
    fill(main, h('p', {class: 'error'}, errorText(e)));
    return;
  }
  const typeName = Object.fromEntries(TYPES)[c.type] || c.type;
  const channelName = Object.fromEntries(CHANNELS)[c.channel] || c.channel;
  const caller = c.caller || {};
  const info = h('section', {class: 'panel'},
    h('h1', null, '工单 ', c.number, ' ', h('span', {class: 'tag' + (c.overdue ? ' red' : '')}, stateName(c.state)), c.urgent ? h('span', {class: 'tag red'}, '紧急') : null),
    c.title ? h('h2', null, c.title) : null,
    h('p', {class: 'pre'}, c.text),
    h('table', null, h('tbody', null,
      row('受理时间', shortTime(c.created_at)), row('类型 / 渠道', typeName + ' / ' + channelName),
      row('区县 / 地址', [c.district, c.address].filter(Boolean).join(' ')),
      row('来电人', caller.confidential && !caller.phone ? '（保密）' : [caller.name, caller.phone].filter(Boolean).join(' ')),
      row('承办单位', deptName(names, c.department)),
      row('签收时限', shortTime(c.deadlines && c.deadlines.sign_by)), row('响应时限', shortTime(c.deadlines && c.deadlines.contact_by)),
      row('办结时限', shortTime(c.deadlines && c.deadlines.finish_by)),
      c.answer ? row('直接答复', c.answer) : null,
      c.reply ? row('答复', typeof c.reply === 'object' ? c.reply.text : c.reply) : null,
      c.satisfaction ? row('满意度', String(c.satisfaction.score || '')) : null,
      c.extension ? row('延期申请', c.extension.workdays + ' 个工作日（' + ({requested: '待批准', approved: '已批准', rejected: '已驳回'}[c.extension.state] || c.extension.state) + '）' + (c.extension.reason ? '：' + c.extension.reason : '')) : null,
      c.suspended ? row('挂起', shortTime(c.suspended.since) + ' ' + (c.suspended.reason || '')) : null,
      c.co && c.co.length ? row('协办单位', c.co.map((x) => deptName(names, x.department) + (x.state === 'done' ? '（已答复）' : '（办理中）')).join('、')) : null,
      c.declined ? row('不予受理', c.declined.note || c.declined.reason) : null)));
  const actions = h('section', {class: 'panel actions'}, h('h2', null, '办理'));
  for (const a of ACTIONS) {
    if (a.roles.includes(user.role) && a.states.includes(c.state) && (!a.when || a.when(c, user)) &&
        await hasRoute('POST /v1/cases/{id}/' + a.name)) {
      actions.append(actionForm(a, c, names, () => load(main, id, user)));
    }
  }
  if (actions.children.length === 1) actions.append(h('p', {class: 'muted'}, '当前状态下没有可办理的操作'));
  const history = h('section', {class: 'panel'}, h('h2', null, '办理记录'), h('ul', {class: 'plain'}, events.items.map((e) =>
    h('li', null, shortTime(e.at), ' ', h('strong', null, ACTION_NAMES[e.action] || e.action), ' ', e.actor,
      e.from && e.to && e.from !== e.to ? '（' + stateName(e.from) + ' → ' + stateName(e.to) + '）' : '',
      describe(e.data)))));
  fill(main, h('div', {class: 'grid'}, h('div', null, info, history), actions));
}

function row(k, v) { return h('tr', null, h('th', null, k), h('td', {class: 'pre'}, v || '')); }

// The human part of an event's data: notes, reasons, replies, departments.
function describe(data) {
  if (!data) return null;
  const parts = ['note', 'reason', 'text', 'comment', 'department', 'score'].filter((k) => data[k] !== undefined && data[k] !== null && typeof data[k] !== 'object').map((k) => String(data[k]));
  return parts.length ? h('div', {class: 'muted pre'}, parts.join(' · ')) : null;
}

function actionForm(a, c, names, done) {
  const inputs = {};
  const msg = h('p', {class: 'error'});
  const controls = a.fields.map(([key, label, kind]) => {
    let el;
    if (kind === 'textarea') el = h('textarea', {maxlength: 4000});
    else if (kind === 'checkbox') { el = h('input', {type: 'checkbox', checked: true}); inputs[key] = el; return h('label', {class: 'check'}, el, label); }
    else if (kind === 'number') el = h('input', {type: 'number', min: 1});
    else if (kind === 'department') el = h('select', null, [...names].map(([code, name]) => option(code, name)));
    else if (kind === 'score') el = h('select', null, SCORES.map(([v, t]) => option(String(v), v + ' ' + t)));
    else if (kind === 'decline') el = h('select', null, DECLINE_REASONS.map(([v, t]) => option(v, t)));
    inputs[key] = el;
    return field(label, el);
  });
  return h('form', {onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [key, , kind] of a.fields) {
      const el = inputs[key];
      if (kind === 'checkbox') body[key] = el.checked;
      else if (kind === 'number' || kind === 'score') { if (el.value) body[key] = parseInt(el.value, 10); }
      else if (el.value.trim()) body[key] = el.value.trim();
    }
    try {
      await api('POST', '/v1/cases/' + c.id + '/' + a.name, body);
      done();
    } catch (e) {
      fill(msg, errorText(e));
    }
  }}, controls, msg, h('button', {type: 'submit'}, ACTION_NAMES[a.name] || a.name));
}
