-- Waiting-room load for wrk (bench/waiting_room.py): each thread's shoppers join one by one, and
-- between two joins `polls` status polls go to shoppers of the thread who joined earlier.
-- args: token file, sale id, polls per join, lag, threads, shoppers joined before the run.
-- A poll goes to a shopper who joined at least `lag` joins before (or before the run), so that their
-- join was answered whichever connection carried it: a poll before one's join is a 404, not load.
local tokens, sale, polls, lag = {}, "0", 5, 64
local sent, joined = 0, 0
local threads_set_up = 0

function setup(thread)
  thread:set("thread_number", threads_set_up)
  threads_set_up = threads_set_up + 1
end

function init(args)
  sale, polls, lag = args[2], tonumber(args[3]), tonumber(args[4])
  local threads, ready = tonumber(args[5]), tonumber(args[6])
  local all = {}
  for line in io.lines(args[1]) do all[#all + 1] = line end
  for i = tonumber(thread_number) + 1, #all, threads do tokens[#tokens + 1] = all[i] end
  joined = math.floor(ready / threads)
end

-- wrk calls request() once before the run to check the script and never sends that request: it must
-- be a poll, since a join not sent would leave its shopper out of line (and their polls 404).
function request()
  sent = sent + 1
  if sent % (polls + 1) == 0 and joined < #tokens then
    joined = joined + 1
    return wrk.format("POST", "/api/sales/" .. sale .. "/queue", {Authorization = "Bearer " .. tokens[joined]})
  end
  local shopper = math.random(1, math.max(1, joined - lag))
  return wrk.format("GET", "/api/sales/" .. sale .. "/queue/me", {Authorization = "Bearer " .. tokens[shopper]})
end

-- done(): the figures as one JSON line, as every wrk bench prints them (figures.lua, beside this file)
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "figures.lua")
