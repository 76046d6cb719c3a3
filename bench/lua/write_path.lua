-- wrk script for bench/write_path.py.
--
--   wrk ... -s bench/lua/write_path.lua <url> -- <patients file> <post|get>
--
-- The patients file has one "<token> <patient's local today>" line per patient. Every
-- request is pre-formatted in init(), so the per-request Lua cost is one table lookup for
-- POST and GET alike. Requests rotate across the patients (consecutive requests belong to
-- different patients, so concurrent writes rarely wait on the same patient's row lock);
-- POST bodies cycle the score through 0..6. response() counts every status outside 2xx and
-- done() prints one machine-readable "BENCH ..." line that write_path.py parses.

local threads = {}

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

non2xx = 0
first_bad = ""

local requests = {}
local next_index = 1

function init(args)
  local path, mode = args[1], args[2]
  local patients = {}
  for line in io.lines(path) do
    local token, day = line:match("^(%S+)%s+(%S+)$")
    if token then
      table.insert(patients, { token = token, day = day })
    end
  end
  if #patients == 0 then
    error("no patients in " .. tostring(path))
  end
  if mode == "post" then
    -- score varies with the position: patient i gets score (i + k) mod 7 on its k-th turn.
    for k = 0, 6 do
      for i, p in ipairs(patients) do
        local body = string.format(
          '{"date":"%s","score":%d,"region":"lower_back","character":"ache",'
            .. '"onset":"unrelated","red_flags":[],"notes":""}',
          p.day, (i + k) % 7)
        local headers = {
          ["Authorization"] = "Token " .. p.token,
          ["Content-Type"] = "application/json",
          ["Accept"] = "application/json",
        }
        table.insert(requests, wrk.format("POST", wrk.path, headers, body))
      end
    end
  elseif mode == "get" then
    for _, p in ipairs(patients) do
      local headers = {
        ["Authorization"] = "Token " .. p.token,
        ["Accept"] = "application/json",
      }
      table.insert(requests, wrk.format("GET", wrk.path, headers, nil))
    end
  else
    error("mode must be post or get, not " .. tostring(mode))
  end
  -- Threads start at different points of the rotation.
  next_index = ((thread_no or 0) * 7) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(tostring(body), 1, 300)
    end
  end
end

function done(summary, latency, requests_stats)
  local bad, sample = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local first = thread:get("first_bad") or ""
    if sample == "" and first ~= "" then
      sample = first
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d status=%d "
      .. "timeout=%d mean_us=%.1f stdev_us=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
  if sample ~= "" then
    io.write("BENCH_FIRST_BAD " .. string.gsub(sample, "\n", " ") .. "\n")
  end
end
