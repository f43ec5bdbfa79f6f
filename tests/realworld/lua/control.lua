-- control.lua: errors, pcall, coroutines, the garbage collector.
print(pcall(error, "plain"))
print(select(2, pcall(error, {code = 42})).code)
print(select(2, pcall(function() local x = nil; return x.field end)))
print(xpcall(function() error("deep", 2) end, function(m) return "handled: " .. m end))
print(pcall(string.rep))
print(select(2, pcall(function() return 1 + {} end)))

-- Nested protected calls unwind to the right level.
local function level(n)
  if n == 0 then error("bottom") end
  local ok, err = pcall(level, n - 1)
  return "level " .. n .. " caught " .. tostring(err)
end
print(level(3))

-- error objects with __tostring and rethrow.
local E = setmetatable({}, {__tostring = function() return "custom error" end})
local ok, e = pcall(function() error(E) end)
print(ok, tostring(e), e == E)
print(pcall(function() local ok2, e2 = pcall(error, "inner"); error("outer+" .. e2, 0) end))

-- Coroutines: generators, passing values both ways, status, wrap, errors.
local function gen(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i) end
  end)
end
local s = 0
for v in gen(100) do s = s + v end
print("sum", s)

local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e, "done"
end)
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co), coroutine.resume(co, 10))
print(coroutine.resume(co, 3, 4))
print(coroutine.status(co), coroutine.resume(co))

local bad = coroutine.create(function() coroutine.yield(1); error("in coroutine") end)
print(coroutine.resume(bad))
print(coroutine.resume(bad))
print(coroutine.status(bad))
print(coroutine.isyieldable(), type(coroutine.running()), select(2, coroutine.running()))

-- Producer/consumer pipeline of three coroutines.
local function producer()
  return coroutine.create(function()
    for _, w in ipairs({"a", "b", "c", "d"}) do coroutine.yield(w) end
  end)
end
local function filter(src)
  return coroutine.create(function()
    while true do
      local ok, v = coroutine.resume(src)
      if not v then return end
      coroutine.yield(v:upper() .. v)
    end
  end)
end
local f = filter(producer())
local out = {}
while true do
  local ok, v = coroutine.resume(f)
  if not v then break end
  out[#out + 1] = v
end
print(table.concat(out, " "))

-- Many short-lived coroutines and protected calls (no leaks, no crash).
local n = 0
for i = 1, 20000 do
  local c = coroutine.wrap(function(x) coroutine.yield(x + 1) end)
  n = n + c(i)
  pcall(error, i)
end
print("n", n)

-- Garbage: build and drop a lot of tables, weak tables, finalizers.
local weak = setmetatable({}, {__mode = "k"})
do
  for i = 1, 1000 do weak[{}] = i end
end
collectgarbage()
local left = 0
for _ in pairs(weak) do left = left + 1 end
print("weak left", left)
local fin = 0
for i = 1, 10 do setmetatable({}, {__gc = function() fin = fin + 1 end}) end
collectgarbage(); collectgarbage()
print("finalized", fin)
print(collectgarbage("count") > 0, string.format("%d", #string.rep("x", 1 << 20)))

-- Deep recursion and stack overflow are errors, not crashes.
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
print(depth(10000))
local function inf(n) return 1 + inf(n + 1) end
local ok2, msg = pcall(inf, 1)
print(ok2, (msg:gsub("^.-:%d+: ", "")))
print(select("#", pcall(string.rep, "x", -1)))
