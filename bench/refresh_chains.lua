-- wrk script for bench/oidc_bench.py scenario (a): rotating refresh-token chains.
-- Arguments: the Authorization header value, then one refresh token per chain. Each
-- response's new refresh_token is queued and sent by a later request, so every grant
-- presents a token the IdP has just issued, as an RP renewing its access token does.
local auth
local queue, head, tail = {}, 1, 0

function init(args)
  auth = args[1]
  -- wrk calls request() once at start-up to see whether requests change, and sends
  -- nothing from that call: it takes this placeholder instead of a chain's token.
  tail = 1
  queue[1] = "probe"
  for i = 2, #args do
    tail = tail + 1
    queue[tail] = args[i]
  end
end

local function grant(token)
  return wrk.format("POST", "/oidc/token", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

function request()
  if head > tail then
    return grant("chain-broken") -- answered 400: counted as an error by wrk
  end
  local token = queue[head]
  queue[head] = nil
  head = head + 1
  return grant(token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token":%s*"([^"]+)"')
  if token then
    tail = tail + 1
    queue[tail] = token
  end
end
