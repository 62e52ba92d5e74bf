-- Reserves up to N customers for a dialer, each with the claim of claim.lua (rule 10's order),
-- in one atomic step. The script is claim.lua's body wrapped as the function claim_once
-- (scripts.py builds it), called once per customer.
-- KEYS = the fixed keys (common.lua), [8] P.."dialing" (reservations by expiry).
-- ARGV as claim.lua's ([2] is the dialer's user id, [3] a token the tokens of the
-- reservations start with), [11] how many to reserve.
-- Returns {"reserved", cid, source, expiry, token, cid, ...}, or claim.lua's empty answer when
-- none could be reserved.
-- A claim leaves the claimant's current customer in AGENT: a dialer holds many, so it is
-- dropped after each one (the lease stays on the customer: HOLDER and LEASE).
local uid, base = ARGV[2], ARGV[3]
local out = {"reserved"}
for i = 1, tonumber(ARGV[11]) do
  ARGV[3] = base .. "-" .. i
  local r = claim_once()
  if r[1] ~= "claimed" then
    if #out == 1 and r[1] == "empty" then
      return r
    end
    break
  end
  redis.call("HDEL", AGENT, uid)
  redis.call("ZADD", KEYS[8], tonumber(r[4]), r[2])
  for j = 2, 5 do
    out[#out + 1] = r[j]
  end
end
return out
