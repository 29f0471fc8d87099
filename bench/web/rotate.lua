-- wrk script for `make bench`: every request goes to the next target of a list, so
-- one run spreads over many school hosts (and, for logged-in pages, their sessions).
--
--   wrk -t2 -c8 -d8s -s bench/web/rotate.lua http://127.0.0.1:PORT/ -- targets.tsv 2
--
-- targets.tsv holds one target per line, tab-separated: Host header, path, Cookie
-- header (may be empty). The second argument is wrk's thread count (-t): thread i of
-- n starts at target floor(i * N / n) + 1 and walks the list round-robin from there,
-- so the threads do not ask for the same host in lockstep. Requests are formatted
-- once per thread in init(), so the rotation costs wrk a table lookup per request.
--
-- done() prints one line "WRK_RESULT {json}" (latencies in microseconds) that
-- bench/web/wrk.py parses; wrk's own summary is printed too, for people.

local thread_counter = 0

function setup(thread)
   thread:set("thread_index", thread_counter)
   thread_counter = thread_counter + 1
end

local requests = {}
local position = 0

local function split_tabs(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
   end
   return fields
end

function init(args)
   local path = args[1]
   local thread_count = tonumber(args[2]) or 1
   local file = assert(io.open(path, "r"), "cannot open targets file " .. tostring(path))
   for line in file:lines() do
      if line ~= "" then
         local fields = split_tabs(line)
         local headers = {
            ["Host"] = fields[1],
            ["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8",
            ["Accept-Encoding"] = "gzip, br",
         }
         if fields[3] ~= nil and fields[3] ~= "" then
            headers["Cookie"] = fields[3]
         end
         requests[#requests + 1] = wrk.format("GET", fields[2], headers)
      end
   end
   file:close()
   assert(#requests > 0, "no targets in " .. path)
   -- position is the index of the previous request; request() advances it first
   position = math.floor((thread_index or 0) * #requests / thread_count)
end

function request()
   position = position % #requests + 1
   return requests[position]
end

function done(summary, latency, requests_stats)
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, '
         .. '"status_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, '
         .. '"mean_us": %.1f, "max_us": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.mean, latency.max
   ))
end
