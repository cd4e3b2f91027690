-- wrk script for bench/oidc_bench.py scenario (b): complete authorization-code flows of
-- browsers already signed in. Arguments: the RP's Authorization header value, the
-- authorize path without state and nonce, the token request body without the code, then
-- one Cookie header value per signed-in browser.
--
-- Each flow is GET /oidc/authorize (a browser's session cookie, a fresh state and nonce)
-- answered by a redirect to the RP with a code, then POST /oidc/token redeeming that code
-- (PKCE S256: the verifier is in the token body). A code waiting to be redeemed is sent
-- before a new authorization starts. A flow's latency runs from its authorize request to
-- its token response (found again by the nonce inside the ID token).
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local auth, authorize_path, token_body
local cookies = {}
local started = {}            -- flow id -> ms at its authorize request
local codes, head, tail = {}, 1, 0
local flows, serial = 0, 0
flow_ms = {}                  -- read by done() through thread:get
failures = 0

local thread_ref
function setup(thread) thread_ref = thread end

function init(args)
  auth, authorize_path, token_body = args[1], args[2], args[3]
  for i = 4, #args do cookies[#cookies + 1] = args[i] end
  math.randomseed(os.time())
  serial = math.random(1, 1e9) * 1000
end

function request()
  if head <= tail then
    local code = codes[head]
    codes[head] = nil
    head = head + 1
    return wrk.format("POST", "/oidc/token", {
      ["Authorization"] = auth,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, token_body .. "&code=" .. code)
  end
  serial = serial + 1
  local id = "f" .. serial
  started[id] = now_ms()
  return wrk.format("GET", authorize_path .. "&state=" .. id .. "&nonce=" .. id,
                    {["Cookie"] = cookies[serial % #cookies + 1]})
end

local b64 = {}
do
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  for i = 1, #alphabet do b64[alphabet:sub(i, i)] = i - 1 end
end

local function base64url_decode(s)
  local out, bits, nbits = {}, 0, 0
  for i = 1, #s do
    local v = b64[s:sub(i, i)]
    if v == nil then break end
    bits = bits * 64 + v
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      local byte = math.floor(bits / 2 ^ nbits)
      out[#out + 1] = string.char(byte)
      bits = bits - byte * 2 ^ nbits
    end
  end
  return table.concat(out)
end

function response(status, headers, body)
  if status == 302 then
    local location = headers["Location"] or ""
    local code = location:match("[?&]code=([^&]+)")
    if code then
      tail = tail + 1
      codes[tail] = code
    else
      failures = failures + 1
    end
  elseif status == 200 then
    local payload = body:match('"id_token":%s*"[^.]+%.([^.]+)%.')
    local id = payload and base64url_decode(payload):match('"nonce":%s*"([^"]+)"')
    if id and started[id] then
      flows = flows + 1
      flow_ms[flows] = now_ms() - started[id]
      started[id] = nil
    else
      failures = failures + 1
    end
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local list = thread_ref:get("flow_ms")
  local n = #list
  table.sort(list)
  local function pct(p)
    if n == 0 then return -1 end
    return list[math.max(1, math.ceil(n * p / 100))]
  end
  io.write(string.format("FLOWS %d p50 %.3f p99 %.3f failures %d\n", n, pct(50), pct(99),
                         thread_ref:get("failures")))
end
