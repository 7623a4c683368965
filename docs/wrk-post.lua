-- wrk script for POST /api/v1/feedback: an HTTP load generator independent of
-- the bot's own `bench api`, as used for docs/performance.md.
--
--   FEEDBACKBOT_HTTP_ADDR=127.0.0.1:8099 FEEDBACKBOT_API_TOKEN=T \
--     DATABASE_URL=postgres://… feedbackbot serve &
--   wrk -t 2 -c 16 -d 15s --latency -s docs/wrk-post.lua http://127.0.0.1:8099
--
-- Each post is fresh text (9 to 16 words from a 70-word vocabulary and a
-- random number) or, one time in five, "+1 <an earlier text> please"; the
-- author is one of 50,000 email addresses (WRK_EMAIL=0: plain names). The
-- token is T (edit the Authorization header for yours).
local vocab = {"export","csv","dark","mode","board","slack","discord","filter","search","tags","sso","okta","login","mobile","app","notifications","email","digest","weekly","report","api","webhook","github","linear","jira","sync","import","bulk","edit","merge","duplicate","vote","customer","portal","roadmap","status","release","changelog","comment","thread","reply","mention","keyboard","shortcuts","theme","font","size","language","translate","timezone","calendar","integration","zapier","sheet","excel","pdf","print","share","link","public","private","team","role","permission","admin","audit","log","history","undo","archive"}
local n = 0
local earlier = {}
local email = os.getenv("WRK_EMAIL") ~= "0"
math.randomseed(os.time() + math.floor(os.clock()*1e6))
request = function()
  n = n + 1
  local text
  if #earlier > 0 and math.random() < 0.2 then
    text = "+1 " .. earlier[math.random(#earlier)] .. " please"
  else
    local k = 9 + math.random(0, 7)
    local w = {}
    for i = 1, k do w[i] = vocab[math.random(#vocab)] end
    text = table.concat(w, " ") .. " " .. math.random(1, 1000000)
    if #earlier < 1000 then earlier[#earlier+1] = text else earlier[math.random(1000)] = text end
  end
  local u = math.random(1, 50000)
  local author = email and ("user" .. u .. "@example.com") or ("user" .. u)
  local body = '{"source":"email","author":"' .. author .. '","text":"' .. text .. '"}'
  return wrk.format("POST", "/api/v1/feedback", {["Content-Type"]="application/json", ["Authorization"]="Bearer T"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk: %d requests, %.0f/s, p50 %.1f ms, p99 %.1f ms, errors %d/%d/%d/%d/%d status\n", summary.requests, summary.requests/(summary.duration/1e6), latency:percentile(50)/1000, latency:percentile(99)/1000, e.connect, e.read, e.write, e.timeout, e.status))
end
