-- Ends a lease and returns the customer home exactly as it was (rule 17).
-- KEYS = the fixed keys (common.lua); ARGV[1] cid, [2] user id, [3] token ("" with force).
-- [4] "1" to force (extended handling releases someone else's customer).
-- Returns {"ok", former holder} or {"stale", holder or ""}.
local cid, uid, token, force = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == "1"
local holder, held_token = holder_of(cid)
if not holder then
  return {"stale", ""}
end
if not force and (holder ~= uid or held_token ~= token) then
  return {"stale", holder}
end
return_home(cid)
return {"ok", holder}
