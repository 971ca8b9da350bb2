-- The contract's audited read, spread over tenants: each request takes a random line
-- "<token> <patient id>" of $SPREAD_PAIRS (one tenant's doctor token and one of its patients).
local pairs_ = {}
for line in io.lines(os.getenv("SPREAD_PAIRS")) do
  local token, id = line:match("^(%S+) (%S+)$")
  if token then pairs_[#pairs_ + 1] = { token = "Bearer " .. token, id = id } end
end
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function init(args) bad = 0; math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  local p = pairs_[math.random(#pairs_)]
  return wrk.format("GET", "/api/v1/patients/" .. p.id, { ["Authorization"] = p.token })
end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
  io.write(string.format("unexpected: %d\n", total))
end
