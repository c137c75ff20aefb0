// intake: the operator's form for a new case, with the aids around it: the routing preview,
// the caller's history, similar open cases and the knowledge base. An aid whose endpoint the
// server lacks (404) simply stays hidden.
import {api, departments, deptName, hasRoute, qs} from './api.js';
import {h, fill, field, option, shortTime, errorText} from './dom.js';

const TYPES = [['complaint', '投诉'], ['consult', '咨询'], ['help', '求助'], ['report', '举报'], ['suggestion', '建议'], ['praise', '表扬']];
const CHANNELS = [['phone', '电话'], ['web', '网站'], ['app', 'APP'], ['wechat', '微信'], ['kiosk', '自助终端'], ['hall', '大厅'], ['email', '邮件']];
const STATES = {pending: '待派单', dispatched: '已派单', accepted: '已签收', replied: '已答复', reopened: '重办', answered: '直接答复', closed: '已办结', merged: '已并单',
  suspended: '已挂起', reviewing: '待审核'};

export function stateName(s) { return STATES[s] || s; }
export {TYPES, CHANNELS, STATES};

export function intakePage(main) {
  const f = {
    text: h('textarea', {testid: 'case-text', maxlength: 4000, required: true, placeholder: '市民诉求内容'}),
    district: h('input', {testid: 'case-district', maxlength: 50, list: 'districts', placeholder: '如：驿城区'}),
    title: h('input', {maxlength: 200}),
    address: h('input', {maxlength: 200}),
    type: h('select', null, TYPES.map(([v, t]) => option(v, t))),
    channel: h('select', null, CHANNELS.map(([v, t]) => option(v, t))),
    urgent: h('input', {type: 'checkbox'}),
    name: h('input', {maxlength: 50}),
    phone: h('input', {type: 'tel', maxlength: 20}),
    confidential: h('input', {type: 'checkbox'}),
    department: h('select', null, option('', '按规则自动派单')),
    answer: h('textarea', {maxlength: 4000, placeholder: '话务员当场答复时填写（直接答复，不派单）'}),
  };
  let kbId = null;
  const error = h('p', {class: 'error', role: 'alert'});
  const result = h('div');
  const submit = h('button', {type: 'submit', testid: 'case-submit'}, '提交工单');
  const preview = h('div', {class: 'muted'}, '输入诉求内容后显示派单预判');
  const callerBox = h('div', {class: 'muted'}, '输入来电号码后显示历史来电');
  const similarBox = h('div', {class: 'muted'}, '输入诉求内容后显示相似工单');
  const kbQuery = h('input', {placeholder: '搜索知识库'});
  const kbBox = h('div');
  const panels = {
    caller: h('section', {class: 'panel'}, h('h2', null, '来电历史'), callerBox),
    similar: h('section', {class: 'panel'}, h('h2', null, '相似工单'), similarBox),
    kb: h('section', {class: 'panel'}, h('h2', null, '知识库'), kbQuery, kbBox),
  };
  let names = null;

  // Aids the server does not have (yet) are left out.
  for (const [key, route] of [['caller', 'GET /v1/callers'], ['similar', 'POST /v1/cases/similar'], ['kb', 'GET /v1/kb']]) {
    hasRoute(route).then((ok) => { if (!ok) panels[key].remove(); });
  }
  departments().then((n) => {
    names = n;
    for (const [code, name] of n) f.department.append(option(code, name));
  }).catch(() => {});

  function body() {
    const b = {text: f.text.value, type: f.type.value, channel: f.channel.value};
    for (const k of ['district', 'title', 'address']) if (f[k].value.trim()) b[k] = f[k].value.trim();
    if (f.urgent.checked) b.urgent = true;
    return b;
  }

  function createBody() {
    const b = body();
    const caller = {};
    if (f.name.value.trim()) caller.name = f.name.value.trim();
    if (f.phone.value.trim()) caller.phone = f.phone.value.trim();
    if (f.confidential.checked) caller.confidential = true;
    if (Object.keys(caller).length) b.caller = caller;
    if (f.department.value) b.department = f.department.value;
    if (f.answer.value.trim()) {
      b.answer = f.answer.value.trim();
      if (kbId) b.kb = kbId;
    }
    return b;
  }

  const refreshAids = debounce(async () => {
    if (!f.text.value.trim()) return;
    const b = body();
    try {
      const r = await api('POST', '/v1/route', b);
      fill(preview, h('div', null, '派往：', h('strong', null, r.department ? deptName(names, r.department) : '派单池（人工派单）')),
        h('div', {class: 'muted'}, '依据：', {rule: '规则', category: '分类默认单位', model: '模型', manual: '指定', none: '无匹配'}[r.method] || r.method,
          r.rule_name ? '「' + r.rule_name + '」' : '', r.matched && r.matched.length ? '，命中：' + r.matched.join('、') : ''),
        r.suggestion ? h('div', {class: 'muted'}, '模型建议：', deptName(names, r.suggestion.department), '（置信度 ', Math.round(r.suggestion.confidence * 100), '%）') : null);
    } catch (e) {
      fill(preview, h('span', {class: 'muted'}, '暂无预判'));
    }
    if (await hasRoute('POST /v1/cases/similar')) {
      try {
        const r = await api('POST', '/v1/cases/similar', b);
        fill(similarBox, r.items.length ? h('ul', {class: 'plain'}, r.items.map((c) => h('li', null,
          h('a', {href: '#/case/' + c.id}, c.number), ' ', stateName(c.state), ' · ', c.district || '', ' · ',
          Math.round(c.similarity * 100), '% ', h('div', {class: 'muted'}, c.title || '')))) : '没有相似的在办工单');
      } catch (e) {
        if (e.status === 404) panels.similar.remove();
      }
    }
    if (!kbQuery.value.trim()) searchKb(f.text.value.trim().slice(0, 30));
  }, 400);

  const refreshCaller = debounce(async () => {
    const phone = f.phone.value.trim();
    if (!/^[0-9+-]{5,20}$/.test(phone) || !(await hasRoute('GET /v1/callers'))) return;
    try {
      const r = await api('GET', '/v1/callers/' + encodeURIComponent(phone));
      fill(callerBox,
        r.flag ? h('p', {class: 'tag red'}, {repeat: '重复来电', malicious: '恶意来电'}[r.flag.kind] || r.flag.kind, '：', r.flag.note || '') : null,
        h('p', null, '近 90 天来电 ', String(r.count_90d), ' 次'),
        h('ul', {class: 'plain'}, r.cases.map((c) => h('li', null, h('a', {href: '#/case/' + c.id}, c.number), ' ',
          shortTime(c.created_at), ' ', stateName(c.state), h('div', {class: 'muted'}, c.title || '')))));
    } catch (e) {
      if (e.status === 404) panels.caller.remove();
      else fill(callerBox, errorText(e));
    }
  }, 400);

  async function searchKb(q) {
    if (!q || !(await hasRoute('GET /v1/kb'))) return;
    try {
      const r = await api('GET', '/v1/kb' + qs({q, limit: 5}));
      fill(kbBox, r.items.length ? h('ul', {class: 'plain'}, r.items.map((a) => h('li', null,
        h('strong', null, a.title), h('div', {class: 'muted pre'}, a.body.slice(0, 200)),
        h('button', {type: 'button', class: 'small secondary', onclick: () => { f.answer.value = a.body; kbId = a.id; }}, '用作答复')))) :
        h('p', {class: 'muted'}, '没有找到相关知识'));
    } catch (e) {
      if (e.status === 404) panels.kb.remove();
    }
  }

  f.text.addEventListener('input', refreshAids);
  f.district.addEventListener('input', refreshAids);
  f.type.addEventListener('change', refreshAids);
  f.phone.addEventListener('input', refreshCaller);
  kbQuery.addEventListener('input', debounce(() => searchKb(kbQuery.value.trim()), 300));
  f.answer.addEventListener('input', () => { if (!f.answer.value) kbId = null; });

  const form = h('form', {class: 'panel', onsubmit: async (ev) => {
    ev.preventDefault();
    fill(error);
    submit.disabled = true;
    try {
      const c = await api('POST', '/v1/cases', createBody());
      fill(result, h('div', {class: 'result'},
        h('div', null, '工单已受理，编号：', h('span', {class: 'number', testid: 'case-number'}, c.number)),
        c.track_code ? h('div', null, '提取码：', h('span', {class: 'number', testid: 'case-track-code'}, c.track_code), h('span', {class: 'muted'}, '（请告知市民，用于查询办理进度）')) : null,
        h('div', null, stateName(c.state), c.department ? ' → ' + deptName(names, c.department) : ''),
        h('a', {href: '#/case/' + c.id}, '查看工单')));
      for (const k of ['text', 'title', 'address', 'name', 'phone', 'answer']) f[k].value = '';
      f.urgent.checked = f.confidential.checked = false;
      kbId = null;
    } catch (e) {
      fill(error, errorText(e), e.field ? '（' + e.field + '）' : '');
    } finally {
      submit.disabled = false;
    }
  }},
  h('h1', null, '受理登记'),
  result,
  field('诉求内容', f.text),
  h('div', {class: 'row'}, h('div', null, field('区县', f.district)), h('div', null, field('标题', f.title))),
  field('地址', f.address),
  h('div', {class: 'row'}, h('div', null, field('类型', f.type)), h('div', null, field('渠道', f.channel))),
  h('label', {class: 'check'}, f.urgent, '紧急'),
  h('div', {class: 'row'}, h('div', null, field('来电人', f.name)), h('div', null, field('来电号码', f.phone))),
  h('label', {class: 'check'}, f.confidential, '市民要求保密'),
  field('派往单位', f.department),
  field('直接答复', f.answer),
  error, submit);

  fill(main, h('div', {class: 'grid'}, form,
    h('div', null, h('section', {class: 'panel'}, h('h2', null, '派单预判'), preview), panels.caller, panels.similar, panels.kb)));
  f.text.focus();
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
