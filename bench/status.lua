-- Counts wrk's responses by status and prints them as "status NNN: COUNT" lines.
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init()
  counts = {}
end

function response(status)
  counts[status] = (counts[status] or 0) + 1
end

function done()
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d\n", status, n))
  end
end
