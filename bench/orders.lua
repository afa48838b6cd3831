-- wrk script: valid, varied orders over keep-alive connections.
--   wrk ... -s bench/orders.lua URL -- MODE TAG LOGDIR [KEYS]
-- MODE tokenq: POST /api/orders {"queue":"A","items":[...],"note"?} with
--   Content-Type: application/json; every other request carries a unique
--   Idempotency-Key (TAG makes keys unique across runs on one database);
--   KEYS=all or none changes that (for profiling).
-- MODE peer: POST /orders {"total":N,"items":[...]} (the seed peer's route).
-- The id of every 201 is kept and written at the end to LOGDIR/TAG.ids, so
-- the run can check that each order the client was told about is in the
-- database.
-- done() prints one WRKJSON line: throughput, latency percentiles, statuses.

local menu = {
  {"Masala tea", 150}, {"Filter coffee", 180}, {"Idli (2)", 400}, {"Plain dosa", 650},
  {"Masala dosa", 900}, {"Vada", 300}, {"Poori bhaji", 850}, {"Lemon rice", 700},
  {"Curd rice", 600}, {"Pongal", 550}, {"Upma", 450}, {"Rava kesari", 350},
  {"Samosa", 250}, {"Paneer roll", 1200}, {"Veg thali", 2200}, {"Mango lassi", 500},
}
local notes = {"less sugar", "no onion, no garlic", "extra chutney", "parcel", "table 7",
               "allergic to peanuts", "spicy!", "quick please"}

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "tokenq"
  tag = args[2] or "run"
  logdir = args[3]
  keys = args[4] or "half" -- which requests carry an Idempotency-Key: half, all, none
  statuses = {}
  ok = 0
  seq = 0
  math.randomseed(os.time() * 1000 + tid * 7919)
  ids = {}
  if mode == "peer" then
    path = "/orders"
  else
    -- TQ_PREFIXES=/v/a,/v/b,...: thread i sends its orders to venue i (mod the count)
    local prefixes = {}
    for p in string.gmatch(os.getenv("TQ_PREFIXES") or "", "[^,]+") do
      table.insert(prefixes, p)
    end
    local prefix = #prefixes > 0 and prefixes[(tid - 1) % #prefixes + 1] or ""
    path = prefix .. "/api/orders"
  end
end

local function esc(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

function request()
  seq = seq + 1
  local n = math.random(1, 4)
  local items, total = {}, 0
  for i = 1, n do
    local m = menu[math.random(#menu)]
    local q = math.random(1, 5)
    total = total + q * m[2]
    if mode == "peer" then
      items[i] = string.format('{"name":"%s","qty":%d,"price":%d}', esc(m[1]), q, m[2])
    else
      items[i] = string.format('{"name":"%s","quantity":%d,"unit_price":%d}', esc(m[1]), q, m[2])
    end
  end
  local headers = {["Content-Type"] = "application/json"}
  local body
  if mode == "peer" then
    body = string.format('{"total":%d,"items":[%s]}', total, table.concat(items, ","))
  else
    local note = ""
    if math.random(4) == 1 then
      note = string.format(',"note":"%s"', esc(notes[math.random(#notes)]))
    end
    local tot = ""
    if math.random(3) == 1 then tot = string.format(',"total":%d', total) end
    body = string.format('{"queue":"A","items":[%s]%s%s}', table.concat(items, ","), tot, note)
    if keys == "all" or (keys == "half" and seq % 2 == 0) then
      headers["Idempotency-Key"] = string.format("%s-%d-%d", tag, tid, seq)
    end
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    ok = ok + 1
    ids[ok] = body:match('"id":%s*(%d+)') or "?"
  end
end

function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do agg[k] = (agg[k] or 0) + v end end
  end
  local logdir, tag = threads[1]:get("logdir"), threads[1]:get("tag")
  if logdir then
    local f = io.open(string.format("%s/%s.ids", logdir, tag), "w")
    for _, t in ipairs(threads) do
      local ids = t:get("ids")
      if ids then for _, id in ipairs(ids) do f:write(id, "\n") end end
    end
    f:close()
  end
  local parts, n2xx = {}, 0
  for k, v in pairs(agg) do
    table.insert(parts, string.format('"%d":%d', k, v))
    if k >= 200 and k < 300 then n2xx = n2xx + v end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"ok_rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,' ..
    '"p99_ms":%.2f,"max_ms":%.2f,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"non2xx":%d,"status":{%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    n2xx / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ",")))
end
