-- wrk script of bench/lifecycle_http.py: the lifecycle's writes, each request a new one,
-- and every answer's body read, so that a fast refusal cannot pass for a write.
--
--   wrk -s bench/lifecycle.lua URL -- KIND STATUS WORD TOKENS PREFIX WAITLIST LINKS THREADS
--
-- KIND      "register": POST the URL's path a registration body with an e-mail address no
--           request used before (PREFIX, the thread, a counter); "cancel": POST the
--           next cancel link of the file LINKS (one path a line; each of the THREADS
--           threads takes every THREADS-th, so no two requests cancel the same
--           registration; once a thread's share is used up it posts EXHAUSTED_PATH, a
--           404, counted apart). "-" and 0 for "register".
-- STATUS    the answer that proves the write: its status code ...
-- WORD      ... and the registration's status in its body ("confirmed", ...).
-- TOKENS    a file of access tokens, one a line, sent in turn (Authorization: Bearer),
--           or "-" for none.
-- WAITLIST  "true" or "false": the body's `waitlist`.
--
-- done() prints one line per thread: "lifecycle thread=N written=... other=... exhausted=...
-- statuses=CODE:COUNT,... seconds=..." (bench/lifecycle_http.py adds them up).

local EXHAUSTED_PATH = "/api/registrations/cancel/exhausted/"
local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function lines_of(path)
   local found = {}
   if path ~= "-" then
      for line in io.lines(path) do
         if line ~= "" then
            table.insert(found, line)
         end
      end
   end
   return found
end

function init(args)
   kind, expected_status, word = args[1], tonumber(args[2]), args[3]
   marker = '"status":"' .. word .. '"'
   tokens = lines_of(args[4])
   prefix, waitlist = args[5], args[6]
   links = {}
   if kind == "cancel" then
      -- Every n-th link, n the number of threads: `threads` here is the main state's,
      -- so the count comes in as an argument.
      local all, count = lines_of(args[7]), tonumber(args[8])
      for index = id, #all, count do
         table.insert(links, all[index])
      end
   end
   sent, written, other, exhausted, statuses = 0, 0, 0, 0, {}
end

function request()
   sent = sent + 1
   local headers = {["Content-Type"] = "application/json"}
   if #tokens > 0 then
      headers["Authorization"] = "Bearer " .. tokens[(id + sent) % #tokens + 1]
   end
   if kind == "register" then
      local body = string.format(
         '{"full_name":"Bench Guest %d","email":"%s-%d-%d@example.org","waitlist":%s}',
         sent, prefix, id, sent, waitlist
      )
      return wrk.format("POST", wrk.path, headers, body)
   end
   local link = links[sent]
   if link == nil then
      exhausted = exhausted + 1
      link = EXHAUSTED_PATH
   end
   return wrk.format("POST", link, headers, "")
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == expected_status and string.find(body, marker, 1, true) then
      written = written + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   for _, thread in ipairs(threads) do
      local counts = {}
      for status, count in pairs(thread:get("statuses")) do
         table.insert(counts, status .. ":" .. count)
      end
      io.write(string.format(
         "lifecycle thread=%d written=%d other=%d exhausted=%d statuses=%s seconds=%.3f\n",
         thread:get("id"), thread:get("written"), thread:get("other"), thread:get("exhausted"),
         table.concat(counts, ","), summary.duration / 1e6
      ))
   end
end
