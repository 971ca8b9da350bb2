-- The web app's patient search page with a session cookie ($WEB_COOKIE), as staff type at a
-- front desk (the contract's search terms: correct names and names one edit away).
-- $WEB_PARTIAL=1 asks for the results fragment the page fetches as the user types.
local cookie = os.getenv("WEB_COOKIE")
local partial = os.getenv("WEB_PARTIAL") == "1" and "&partial=1" or ""
local q = { "smith", "smiht", "patel", "patl", "garcia", "garcai", "nguyen", "ngyuen", "anita", "anitta",
            "kowalski", "kowalsky", "okafor", "okafr", "tanaka", "tanka", "ivanova", "ivanva", "haddad", "hadad" }
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function init(args) bad = 0; math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  return wrk.format("GET", "/app/patients?q=" .. q[math.random(#q)] .. partial, { ["Cookie"] = "ward_session=" .. cookie })
end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
  io.write(string.format("unexpected: %d\n", total))
end
