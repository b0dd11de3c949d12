-- wrk script for bench/fairness.sh: tenant B's closed-loop GET or PUT (FAIRNESS_METHOD)
-- of its own profiles, taking the ids of FAIRNESS_IDS in turn, so that no two connections
-- queue for one row. A PUT changes subscriberClass to a value no other request sends, so
-- that every PUT writes. Auth and tenant headers come from wrk's -H options. done()
-- prints exact percentiles (µs), wrk's errors and the responses by status, one
-- "key value" a line.

local method = os.getenv("FAIRNESS_METHOD") or "GET"
local ids = {}
for id in string.gmatch(os.getenv("FAIRNESS_IDS") or "", "%d+") do
   table.insert(ids, id)
end
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   counter = 0
   statuses = {}
   -- wrk.format's own headers would replace the -H ones; this adds to them.
   if method == "PUT" then wrk.headers["Content-Type"] = "application/json" end
end

function request()
   counter = counter + 1
   local path = "/pcc/spcm/provisionProfile/" .. ids[(counter + tid * 17) % #ids + 1]
   if method == "PUT" then
      local body = string.format('{"subscriberClass":"b-%d-%d"}', tid, counter)
      return wrk.format("PUT", path, nil, body)
   end
   return wrk.format("GET", path)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   io.write(string.format("requests %d\n", summary.requests))
   io.write(string.format("p50_us %d\n", latency:percentile(50)))
   io.write(string.format("p99_us %d\n", latency:percentile(99)))
   io.write(string.format("max_us %d\n", latency.max))
   for _, kind in ipairs({ "connect", "read", "write", "timeout" }) do
      io.write(string.format("error_%s %d\n", kind, summary.errors[kind]))
   end
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
      io.write(string.format("status_%d %d\n", status, total[status]))
   end
end
