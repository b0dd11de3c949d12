-- wrk script for bench/run.sh: every request POSTs one new provisioning profile
-- (a single JSON object, expected answer 201) with a name no other request uses:
-- "<run id>-<thread>-<counter>". The run id comes from BENCH_RUN_ID so that reruns
-- against the same database and tenant never collide. Auth and tenant headers come
-- from wrk's -H options. done() prints how many responses had each status.

local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   counter = 0
   statuses = {}
end

function request()
   counter = counter + 1
   local body = string.format(
      '{"name":"%s-%d-%d","defaultProfile":false,"locale":"en",'
      .. '"initialCorePlanName":"turkey","subscriberClass":"gold","subscriberType":"POSTPAID"}',
      run_id, tid, counter)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         total[status] = (total[status] or 0) + n
      end
   end
   local keys = {}
   for status in pairs(total) do table.insert(keys, status) end
   table.sort(keys)
   for _, status in ipairs(keys) do
      io.write(string.format("status %d: %d\n", status, total[status]))
   end
end
