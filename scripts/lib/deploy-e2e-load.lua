-- wrk's load for scripts/deploy-e2e: a clinic's traffic through nginx while the nodes behind
-- it are restarted. Three in four requests read one patient, one in four creates a patient.
--
--   wrk … -s deploy-e2e-load.lua https://ward.example.org:PORT/ -- TOKEN PATIENT_ID IDS_FILE
--
-- Every answer but 200 or 201 counts as failed (wrk itself only counts 4xx and 5xx), and its
-- first lines go to standard error. The ids of the patients created go to IDS_FILE, one a line,
-- so the run can check afterwards that each can be read. done() prints one line for the run to
-- parse: "load: requests=N reads=N creates=N failed=N".
--
-- Each request asks for its connection to close after the answer. A reload of nginx closes
-- its idle keep-alive connections, and a request a client writes into one at that moment is
-- reset without an answer. Such a request was never processed; browsers and most HTTP clients
-- send it again on a new connection (RFC 9112, 9.3.1), but wrk counts it as a socket error
-- and does not. A request that arrives on a new connection is answered, or not accepted at
-- all and left to the new workers. So "0 failed" here means what it says: no request failed.

local threads = {}

-- The URL names the site (its certificate's name, Host and SNI); connect to loopback, where
-- nginx listens, without an /etc/hosts entry.
function wrk.resolve(host, service)
  wrk.addrs = wrk.lookup("127.0.0.1", service)
end

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local token, patient = args[1], args[2]
  ids_file = args[3]
  sent, reads, creates, failed, ids = 0, 0, 0, 0, {}
  auth = "Bearer " .. token
  read_request = wrk.format("GET", "/api/v1/patients/" .. patient,
    { ["Authorization"] = auth, ["Connection"] = "close" })
end

function request()
  sent = sent + 1
  if sent % 4 == 0 then
    local body = string.format('{"given_name":"Rolling","family_name":"Restart-%d-%d"}', thread_number, sent)
    return wrk.format("POST", "/api/v1/patients",
      { ["Authorization"] = auth, ["Content-Type"] = "application/json", ["Connection"] = "close" }, body)
  end
  return read_request
end

function response(status, headers, body)
  if status == 200 then
    reads = reads + 1
  elseif status == 201 and body:match('"id":"([0-9a-f-]+)"') then
    creates = creates + 1
    ids[#ids + 1] = body:match('"id":"([0-9a-f-]+)"')
  else
    failed = failed + 1
    if failed <= 5 then
      io.stderr:write(string.format("load: answered %d: %s\n", status, body:sub(1, 300)))
    end
  end
end

function done(summary, latency, requests)
  local reads_total, creates_total, failed_total = 0, 0, 0
  local out = assert(io.open(threads[1]:get("ids_file"), "w"))
  for _, thread in ipairs(threads) do
    reads_total = reads_total + thread:get("reads")
    creates_total = creates_total + thread:get("creates")
    failed_total = failed_total + thread:get("failed")
    for _, id in ipairs(thread:get("ids")) do
      out:write(id, "\n")
    end
  end
  out:close()
  io.write(string.format("load: requests=%d reads=%d creates=%d failed=%d\n",
    summary.requests, reads_total, creates_total, failed_total))
end
