-- mod.lua: a module for io.lua's require.
local M = {}
function M.greet(name) return "hello, " .. name end
return M
