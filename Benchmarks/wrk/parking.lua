-- The parking benchmark's requests, from the ids `ward seed parking --ids` wrote into
-- $DRIVE_WORK and the attendant's token. $PARKING_CALL=availability asks which spots of a
-- random zone are free over a random two-hour window of the next 300 days (200 expected);
-- $PARKING_CALL=book books any spot of a random zone for a random vehicle over a random one-
-- or two-hour window (201, or 409 when the vehicle or the zone is taken then).
local work = os.getenv("DRIVE_WORK")
local call = os.getenv("PARKING_CALL")
local function lines(path)
  local t = {}
  local f = io.open(path, "r")
  if f then for l in f:lines() do if #l > 0 then t[#t + 1] = l end end f:close() end
  return t
end
local facility = lines(work .. "/facility")[1]
local zones = lines(work .. "/zones")
local vehicles = lines(work .. "/vehicles")
local headers = { ["Authorization"] = "Bearer " .. lines(work .. "/token")[1], ["Content-Type"] = "application/json" }
local base = math.floor(os.time() / 3600) * 3600 + 86400
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function init(args) bad = 0; conflicts = 0; math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
local function at(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end
request = function()
  local start = base + 1800 * math.random(0, 14400)
  if call == "availability" then
    return wrk.format("GET", "/api/v1/parking/availability?facility_id=" .. facility .. "&zone_id=" .. zones[math.random(#zones)]
      .. "&starts_at=" .. at(start) .. "&ends_at=" .. at(start + 7200), headers)
  end
  local body = string.format('{"vehicle_id":"%s","zone_id":"%s","starts_at":"%s","ends_at":"%s"}',
    vehicles[math.random(#vehicles)], zones[math.random(#zones)], at(start), at(start + 3600 * math.random(1, 2)))
  return wrk.format("POST", "/api/v1/parking/bookings", headers, body)
end
function response(status, headers, body)
  if status == 409 then conflicts = conflicts + 1
  elseif not ((call == "availability" and status == 200) or (call ~= "availability" and status == 201)) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, c = 0, 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0); c = c + (t:get("conflicts") or 0) end
  io.write(string.format("unexpected: %d\nconflicts: %d\n", b, c))
end
