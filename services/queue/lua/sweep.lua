-- Returns expired leases home and ends due cooldowns (the worker's tick; claims sweep too).
-- KEYS = the fixed keys (common.lua); ARGV[1] now_ms, [2] batch size.
-- Returns {expired leases returned, cooldowns ended}.
local expired, promoted = sweep(tonumber(ARGV[1]), tonumber(ARGV[2]))
return {expired, promoted}
