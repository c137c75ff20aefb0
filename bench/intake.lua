-- wrk script for bench/intake.sh: the intake of cases and the two hot reads.
--
--   HL_MODE=create  POST /v1/cases: realistic Chinese cases, each with its own Idempotency-Key
--   HL_MODE=get     GET /v1/cases/{id}, id uniform in 1..HL_MAX_ID
--   HL_MODE=inbox   GET /v1/inbox (HL_TOKEN must be a department token)
--
-- HL_TOKEN is the bearer token; HL_RUN makes the keys of one run unique across runs.
-- At the end it prints one line that intake.sh reads (latencies in ms):
--   RESULT requests=N non2xx=N errors=N rps=R p50=MS p90=MS p99=MS max=MS

local mode = os.getenv("HL_MODE") or "create"
local token = os.getenv("HL_TOKEN") or error("HL_TOKEN is not set")
local run = os.getenv("HL_RUN") or tostring(os.time())
local max_id = tonumber(os.getenv("HL_MAX_ID") or "1")

local texts = {
	"市民来电反映，风光路与解放路交叉口每天早上有人占道摆摊，影响行人和车辆通行。",
	"来电人反映，小区楼下的路灯坏了一个多月，晚上出行很不方便，希望尽快维修。",
	"市民反映，家附近的工地晚上十一点以后还在施工，噪音很大，严重影响休息。",
	"来电人咨询，孩子明年上小学需要准备哪些材料，户口不在本区能不能报名。",
	"市民反映，小区门口的自来水管道破裂，水一直往外冒，已经流了两天了。",
	"来电人反映，在农贸市场买的排骨缺斤少两，怀疑摊主的秤有问题，要求处理。",
	"市民反映，家里的宽带这一周天天断网，报修了三次，师傅来了看看就走了。",
	"来电人反映，公交站台的顶棚破损漏雨，下雨天候车的市民没处躲雨。",
	"市民反映，小区物业私自把绿地改成停车位收费，业主多次反映没有结果。",
	"来电人反映，暖气不热，室内温度只有十五度，家里有老人和孩子。",
	"市民咨询，灵活就业人员怎么缴纳职工养老保险，在哪里办理。",
	"来电人反映，某餐馆后厨卫生条件很差，油烟直排，影响周边居民。",
}
local districts = {"驿城区", "上蔡县", "遂平县", "确山县", "高新区", "示范区", "西平县", "泌阳县"}
local channels = {"phone", "phone", "phone", "app", "wechat", "web"}
local types = {"complaint", "complaint", "help", "consult", "report", "suggestion"}

local threads = {}
local counter = 0
local thread_id = 0

function setup(thread)
	thread:set("thread_id", #threads + 1)
	table.insert(threads, thread)
end

function init(args)
	thread_id = tonumber(wrk.thread:get("thread_id")) or 0
	math.randomseed(os.time() + thread_id)
	wrk.headers["Authorization"] = "Bearer " .. token
end

-- JSON string escaping is not needed: every piece above is plain text without quotes.
local function case_body(n)
	local i = n % #texts + 1
	return string.format(
		'{"text":"%s（编号 %s-%d-%d）","district":"%s","channel":"%s","type":"%s",' ..
		'"caller":{"name":"张先生","phone":"138%08d"}}',
		texts[i], run, thread_id, n, districts[n % #districts + 1], channels[n % #channels + 1],
		types[n % #types + 1], n % 100000000)
end

function request()
	counter = counter + 1
	if mode == "get" then
		return wrk.format("GET", "/v1/cases/" .. math.random(1, max_id))
	elseif mode == "inbox" then
		return wrk.format("GET", "/v1/inbox")
	end
	-- wrk.format takes either wrk.headers or the given table, never both: so set them here
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Idempotency-Key"] = string.format("wrk-%s-%d-%d", run, thread_id, counter)
	return wrk.format("POST", "/v1/cases", nil, case_body(counter))
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"RESULT requests=%d non2xx=%d errors=%d rps=%.1f p50=%.3f p90=%.3f p99=%.3f max=%.3f\n",
		summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000))
end
